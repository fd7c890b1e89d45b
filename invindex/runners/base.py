"""What a runner is given, what it gives back, and what the registry knows of it.

A runner turns input files (or, for the runners that read URIs in place, input URIs)
into ``part-*`` files in a staging location and reports its counters; resolving
inputs, the manifest, the commit and the summary are the pipeline's
(``invindex.build``), so every runner finishes an index the same way.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, FrozenSet, List, Mapping

from ..core.analysis import Analyzer
from ..progress import ProgressCallback


@dataclass
class BuildRequest:
    inputs: List[Path]  # local input files (expanded)
    analyzer: Analyzer
    staging: Path  # parts go here (local runners; URI runners when output_uri is None)
    workdir: Path  # scratch space, removed by the caller
    strict: bool = False
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    memory_mb: int = 1024
    parts: int | None = None  # index parts / reduce tasks (None: the runner's choice)
    engine: str = "auto"  # fast: arrow | python | auto
    split_bytes: int | None = None  # fast: input split size (None: chosen from the input)
    batch_bytes: int | None = None  # fast: map batch size (None: from memory_mb)
    max_record_bytes: int | None = None  # fast: longest record (None: from memory_mb)
    runner_options: Dict[str, Any] = field(default_factory=dict)  # mrjob/dataproc options
    mrjob_conf: str | None = None  # an mrjob.conf to read (None: mrjob's usual places)
    spark_start_timeout: float | None = None  # spark: fail when no task starts in time
    job_inputs: List[str] = field(default_factory=list)  # URI runners: inputs as given
    output_uri: str | None = None  # URI runners: write the parts here (None: to staging)
    on_progress: ProgressCallback | None = None  # bytes of input consumed


@dataclass
class BuildResult:
    counters: Dict[str, int]  # documents, tokens, terms, postings, bad_records.<kind>
    partitioning: Dict[str, Any]
    notes: List[str] = field(default_factory=list)  # first bad-record messages


@dataclass(frozen=True)
class Runner:
    """One registry entry (``invindex.runners.RUNNERS``): everything the CLI, the
    config validation and the pipeline need to know of a runner, so nothing else
    compares runner names.

    The entry is data; ``run`` and ``check`` are those of the runner's ``module``
    (``invindex.runners.<module>``: ``run(req)``, and ``check(req)`` if it has one),
    imported on first use, so that listing the runners (``invindex build --help``) or
    running one imports none of the others (mrjob, Spark's, the clouds' SDKs).

    ``takes``: the optional settings it uses besides the common ones (inputs,
    analyzer, strict, jobs): ``memory``, ``parts``, ``engine``, ``runner_options``.
    ``uris_in_place``: it reads input URIs and writes an output URI itself (no local
    staging of either). ``check(req)`` runs before any storage or cluster is touched
    and raises ``InvindexError`` (``UsageError`` for bad settings) with one line.
    """

    name: str
    help: str
    module: str
    takes: FrozenSet[str] = frozenset()
    uris_in_place: bool = False
    # runner options a flag's option also sets unless given (emr: --instance-type is
    # every node's type, the master's too)
    implied_options: Mapping[str, str] = field(default_factory=dict)

    def code(self) -> ModuleType:
        """The runner's module (imported now if it was not yet)."""
        return importlib.import_module(f"{__package__}.{self.module}")

    def run(self, req: BuildRequest) -> BuildResult:
        return self.code().run(req)

    def check(self, req: BuildRequest) -> None:
        check = getattr(self.code(), "check", None)
        if check is not None:
            check(req)
