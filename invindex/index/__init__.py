"""Indexes wherever they are: one ``IndexLocation`` (local directory, s3/gs/az prefix,
HDFS path), the commit protocol that finishes an index there, and the reader.

- ``location.py``: ``IndexLocation`` and its three kinds; ``index_location(text)``.
- ``commit.py``: claim an output, stage, commit (parts -> manifest -> ``_SUCCESS``).
- ``cloudlock.py``: the lock of a cloud output (create-if-absent, lease, takeover).
- ``staging.py``: the names of a build's staging prefix beside its output (pure).
- ``manifest.py``: counts and timestamps for the manifest.
- ``reader.py``: ``IndexReader`` (lookup by bisection, ranged reads in the cloud).
- ``integrity.py``: parts' sizes and checksums, the reader's checks, ``verify``.
"""

from __future__ import annotations

from .commit import OutputExists
from .location import IndexLocation, index_location, is_uri
from .manifest import Counts, utc_now
from .reader import IndexReader, open_location

__all__ = ["Counts", "IndexLocation", "IndexReader", "OutputExists", "index_location",
           "is_uri", "open_location", "utc_now"]
