#!/usr/bin/env python3
"""invindex Hadoop-streaming reducer: see `reducer.py --help` and invindex/core/stream_reducer.py.

Runs with only the standard library (Python 3.9+). It finds the invindex package when
installed, in this checkout, or in an `invindex.zip` shipped beside it (-files).
"""

import os
import sys

try:
    from invindex.core import stream_reducer, streaming
except ImportError:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [os.path.join(here, "invindex.zip"), os.path.dirname(here)]
    from invindex.core import stream_reducer, streaming

if __name__ == "__main__":
    streaming.run(stream_reducer.reducer_main)
