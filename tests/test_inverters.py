"""The two batch inverters (pure Python, numpy+pyarrow) write identical run lines."""

from __future__ import annotations

import io
from operator import itemgetter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invindex.core.analysis import Analyzer
from invindex.core.records import iter_records
from invindex.runners.fast import invert_py

from .strategies import corpora

invert_arrow = pytest.importorskip("invindex.runners.invert_arrow").invert_arrow

ANALYZERS = [Analyzer(), Analyzer.from_options("english", True, 2, 6, False),
             Analyzer.from_options(None, True, 1, None, True)]


@settings(max_examples=300, deadline=None)
@given(corpora, st.sampled_from(ANALYZERS))
def test_arrow_and_python_inverters_agree(data, analyzer):
    records = sorted(iter_records(io.BytesIO(data)), key=itemgetter(0))
    unique = all(a[0] < b[0] for a, b in zip(records, records[1:], strict=False))
    assert invert_arrow(records, analyzer, unique) == invert_py(records, analyzer, unique)
