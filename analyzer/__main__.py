"""``python -m analyzer``: the same as the ``mixanalyzer`` command."""

from analyzer.cli import main

if __name__ == "__main__":
    main()
