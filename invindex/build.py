"""The one build pipeline, for every runner: resolve the inputs, run the runner into a
staging location, write the manifest, commit, summarize.

The runners never decide where the index ends up, and nothing appears at the output
that looks complete before it is (``index.commit``). Runners that read URIs in place
(emr, hadoop, dataproc) get the inputs as given and write their parts at the output
(or beside it, when an old index is being replaced); the others get local files, cloud
inputs downloaded to a scratch directory first.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from . import __version__
from .core import indexfmt
from .core.analysis import Analyzer
from .errors import UsageError
from .index.commit import claim, commit, local_staging, parts_in, remote_staging
from .index.location import IndexLocation, LocalLocation, index_location, is_uri, local_path
from .index.manifest import Counts, utc_now
from .inputs import expand_inputs, total_size
from .progress import progress
from .runners import DEFAULT_RUNNER, BuildRequest, Runner, get_runner
from .temps import sweep_work_dirs, work_dir

log = logging.getLogger(__name__)


@dataclass
class BuildSummary:
    output: Path | str
    runner: str
    manifest: Dict[str, Any]
    seconds: float
    input_bytes: int
    notes: List[str]

    def text(self) -> str:
        c = self.manifest["counts"]
        mb = self.input_bytes / 1e6  # 0 when the inputs stayed in the cloud (cluster runners)
        size = f", {mb:,.1f} MB" if mb else ""
        rate = f" ({mb / max(self.seconds, 1e-9):,.1f} MB/s)" if mb else ""
        s = (f"Indexed {c['documents']:,} documents ({c['tokens']:,} tokens{size}) "
             f"into {c['terms']:,} terms and {c['postings']:,} postings in "
             f"{self.seconds:.1f} s{rate} with the {self.runner} runner; index at "
             f"{self.output} ({len(self.manifest['parts'])} part(s)).")
        if c["bad_records"]:
            kinds = ", ".join(f"{n:,} {k}" for k, n in c["bad_records_by_kind"].items())
            s += f" Skipped {c['bad_records']:,} bad record(s): {kinds}."
        return s


def _resolve_inputs(entry: Runner, inputs: Sequence[str], workdir: Path,
                    exclude: List[Path]) -> Tuple[List[Path], List[str]]:
    """``(local files, inputs as the job reads them)``. Local runners get cloud inputs
    downloaded; URI runners read them in place. The output (and its staging) is never
    read back as input, even when it lies inside an input directory."""
    if entry.uris_in_place:
        local = [str(local_path(i)) for i in inputs if not is_uri(i)]
        files = expand_inputs(local, exclude) if local else []
        return files, [str(f) for f in files] + [i for i in inputs if is_uri(i)]
    if any(is_uri(i) for i in inputs):
        # only for cloud inputs: the transfer machinery would cost every local build's start
        from .remote import stage_inputs

        inputs = [str(p) for p in stage_inputs(list(inputs), workdir / "inputs")]
    files = expand_inputs([str(local_path(i)) for i in inputs], exclude)
    return files, [str(f) for f in files]


def _staging(entry: Runner, output: IndexLocation, workdir: Path) -> IndexLocation:
    if entry.uris_in_place and not isinstance(output, LocalLocation):
        return remote_staging(output)
    if isinstance(output, LocalLocation):
        return local_staging(output)
    staging = LocalLocation(workdir / "index")  # built here, then uploaded
    staging.path.mkdir()
    return staging


def build_index(inputs: Sequence[str], output: str, analyzer: Analyzer,
                runner: str = DEFAULT_RUNNER, *, overwrite: bool = False,
                strict: bool = False, jobs: int | None = None, memory_mb: int = 1024,
                parts: int | None = None, engine: str = "auto",
                split_bytes: int | None = None, batch_bytes: int | None = None,
                max_record_bytes: int | None = None,
                runner_options: Dict[str, Any] | None = None,
                mrjob_conf: str | None = None,
                spark_start_timeout: float | None = None) -> BuildSummary:
    """Build an index from ``inputs`` (paths, globs, dirs or URIs) into ``output`` (a
    directory or a URI) with ``runner``; see the module docstring for the steps."""
    entry = get_runner(runner)
    started = time.monotonic()
    req = BuildRequest([], analyzer, Path(), Path(), strict=strict, memory_mb=memory_mb,
                       parts=parts, engine=engine, split_bytes=split_bytes,
                       batch_bytes=batch_bytes, max_record_bytes=max_record_bytes,
                       runner_options=dict(runner_options or {}),
                       mrjob_conf=mrjob_conf, spark_start_timeout=spark_start_timeout,
                       job_inputs=list(inputs))
    if jobs:
        req.jobs = jobs
    if req.runner_options and "runner_options" not in entry.takes:
        raise UsageError(f"runner options ({', '.join(sorted(req.runner_options))}) do not "
                         f"apply to the {runner} runner")
    in_place = entry.uris_in_place and is_uri(output)
    req.output_uri = output if in_place else None
    entry.check(req)  # settings and tools, before any storage or cluster is touched
    out = index_location(output, hadoop_bin=req.runner_options.get("hadoop_bin"))
    sweep_work_dirs()
    held = claim(out, overwrite)
    try:
        workdir = work_dir()
    except BaseException:  # a full temporary directory must not keep a cloud lock
        held.release()
        raise
    staging: IndexLocation | None = None
    try:
        staging = _staging(entry, held.output, workdir)
        exclude = [p.path for p in (held.output, staging) if isinstance(p, LocalLocation)]
        files, req.job_inputs = _resolve_inputs(entry, inputs, workdir, exclude)
        req.inputs = files
        req.workdir = workdir / "scratch"
        if isinstance(staging, LocalLocation):
            req.staging, req.output_uri = staging.path, None
        else:
            req.staging, req.output_uri = workdir / "parts", staging.uri
        size = total_size(files)
        with progress(size if not entry.uris_in_place else None,
                      f"indexing ({runner})") as bar:
            req.on_progress = bar
            result = entry.run(req)
        notes = list(result.notes)
        if not result.counters:
            notes.append(f"the {runner} runner returned no counters (the job's logs were "
                         "not readable): the manifest's counts are zero")
        names = parts_in(staging)
        partitioning = {**result.partitioning}
        partitioning.setdefault("num_parts", len(names))
        given_uris = any(is_uri(i) for i in inputs)
        manifest = indexfmt.make_manifest(
            analyzer=analyzer.to_manifest(), counts=Counts.from_counters(result.counters)
            .as_dict(), parts=names, partitioning=partitioning, runner=runner,
            inputs=(req.job_inputs if entry.uris_in_place else list(inputs)) if given_uris
            else [str(f) for f in files], created=utc_now(), version=__version__)
        held.confirm()  # a cloud output's lock still ours (its lease renewed)
        commit(staging, held.output, manifest, overwrite)
        staging = None
    finally:
        if staging is not None:
            staging.remove()
        shutil.rmtree(workdir, ignore_errors=True)
        held.release()
    return BuildSummary(output if is_uri(output) else local_path(output), runner, manifest,
                        time.monotonic() - started, size, notes)
