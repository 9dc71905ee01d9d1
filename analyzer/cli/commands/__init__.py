"""One module per verb. A command module parses its options, builds the settings, calls
:mod:`analyzer.app` and presents the result; it never imports another command module or
:mod:`analyzer.cli.app`, which registers them all."""
