"""The manifest's counts and timestamp, from a runner's job counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Dict

from ..core import counters


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Counts:
    documents: int = 0
    tokens: int = 0
    terms: int = 0
    postings: int = 0
    bad_records: Dict[str, int] | None = None

    @classmethod
    def from_counters(cls, c: Dict[str, int]) -> Counts:
        """From a runner's job counters (``documents``, ..., ``bad_records.<kind>``)."""
        # documents: the document table's entries (distinct doc_ids) where the job
        # wrote one (format 2), else the records read.
        return cls(documents=c.get("table_documents", c.get("documents", 0)),
                   tokens=c.get("tokens", 0),
                   terms=c.get("terms", 0), postings=c.get("postings", 0),
                   bad_records=counters.bad_counts(c))

    def as_dict(self) -> Dict[str, Any]:
        bad = dict(sorted((self.bad_records or {}).items()))
        return {"documents": self.documents, "tokens": self.tokens, "terms": self.terms,
                "postings": self.postings, "bad_records": sum(bad.values()),
                "bad_records_by_kind": bad}
