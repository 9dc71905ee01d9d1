"""One streaming pass, many meters: each meter has ``feed(block)`` and ``result()``."""
