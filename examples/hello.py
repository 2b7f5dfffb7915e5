"""Try weft here: `weft complete examples/hello.py:5:21` completes the last line."""

import logging

logger = logging.get
