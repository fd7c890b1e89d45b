"""What a runner is given and what it gives back; the CLI does the rest.

A runner turns local input files into ``part-*`` files in a staging directory and
reports its counters; writing the manifest, ``_SUCCESS`` and the final rename are the
caller's (``invindex.index``), so every runner finishes an index the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

from ..core.analysis import Analyzer
from ..progress import ProgressCallback


@dataclass
class BuildRequest:
    inputs: List[Path]
    analyzer: Analyzer
    staging: Path  # parts go here
    workdir: Path  # scratch space, removed by the caller
    strict: bool = False
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    memory_mb: int = 1024
    options: Dict[str, Any] = field(default_factory=dict)  # runner-specific settings
    on_progress: ProgressCallback | None = None  # bytes of input consumed


@dataclass
class BuildResult:
    counters: Dict[str, int]  # documents, tokens, terms, postings, bad_records.<kind>
    partitioning: Dict[str, Any]
    notes: List[str] = field(default_factory=list)  # first bad-record messages
