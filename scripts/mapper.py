#!/usr/bin/env python3
"""invindex Hadoop-streaming mapper: see `mapper.py --help` and invindex/core/stream_mapper.py.

Runs with only the standard library (Python 3.9+). It finds the invindex package when
installed, in this checkout, or in an `invindex.zip` shipped beside it (-files).
"""

import os
import sys

try:
    from invindex.core import stream_mapper, streaming
except ImportError:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [os.path.join(here, "invindex.zip"), os.path.dirname(here)]
    from invindex.core import stream_mapper, streaming

if __name__ == "__main__":
    streaming.run(stream_mapper.mapper_main)
