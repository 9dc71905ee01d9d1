"""One streaming pass, many meters: each meter has ``feed(block)`` and ``result()``."""

#: Bumped whenever a change to the meters changes what a figure means or its value beyond
#: rounding; results and reference profiles made with another version are not comparable.
ANALYSIS_SETTINGS_VERSION = 1
