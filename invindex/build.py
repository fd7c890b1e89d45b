"""Build an index: expand inputs, run a runner into a staging directory, finish it.

The side-effecting glue between the CLI and the runners; the runners never decide
where the index ends up, and nothing appears at the output path until it is whole.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

from . import __version__
from .core import indexfmt
from .core.analysis import Analyzer
from .index import Counts, OutputExists, finish, list_parts, staging_dir, utc_now
from .inputs import expand_inputs, total_size
from .progress import progress
from .runners import BuildRequest, run_build, takes_uris

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


def _is_remote(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


def _check_remote_output(uri: str, overwrite: bool) -> None:
    """Fail before any work when a cloud output exists and may not be replaced."""
    from .storage import get_store, parse_uri
    from .storage.transfer import walk

    loc = parse_uri(uri)
    if not overwrite and any(True for _ in walk(get_store(loc), loc)):
        raise OutputExists(f"output {uri} already exists (use --overwrite to replace it)")


def build_index(inputs: List[str], output: str, analyzer: Analyzer, runner: str = "fast",
                overwrite: bool = False, strict: bool = False, jobs: int | None = None,
                memory_mb: int = 1024, options: Dict[str, Any] | None = None,
                ) -> BuildSummary:
    """Build an index from ``inputs`` (paths, globs, dirs or cloud URIs) into ``output``.

    Cloud inputs are downloaded to a scratch area first; a cloud output is built locally
    and then uploaded with ``_SUCCESS`` last (``remote.publish_index``).
    """
    if takes_uris(runner):  # emr/hadoop/dataproc read and write cloud URIs in place
        from .runners.cluster_build import build_on_cluster

        return build_on_cluster(inputs, output, analyzer, runner, overwrite=overwrite,
                                strict=strict, jobs=jobs, memory_mb=memory_mb,
                                options=options or {})
    started = time.monotonic()
    given = list(inputs)
    workdir = Path(tempfile.mkdtemp(prefix="invindex-work-"))
    remote_out = _is_remote(output)
    staging: Path | None = None
    try:
        if remote_out:
            _check_remote_output(output, overwrite)
        if any(_is_remote(i) for i in inputs):
            from .remote import stage_inputs

            inputs = [str(p) for p in stage_inputs(inputs, workdir / "inputs")]
        files = expand_inputs(inputs)
        out = workdir / "index" if remote_out else Path(output.removeprefix("file://"))
        staging = staging_dir(out, overwrite)
        size = total_size(files)
        with progress(size, f"indexing ({runner})") as bar:
            req = BuildRequest(files, analyzer, staging, workdir / "scratch", strict=strict,
                               memory_mb=memory_mb, options=options or {}, on_progress=bar)
            if jobs:
                req.jobs = jobs
            result = run_build(runner, req)
        counts = Counts.from_counters(result.counters)
        manifest = indexfmt.make_manifest(
            analyzer=analyzer.to_manifest(), counts=counts.as_dict(),
            parts=list_parts(staging), partitioning=result.partitioning, runner=runner,
            inputs=given if any(_is_remote(i) for i in given) else [str(f) for f in files],
            created=utc_now(), version=__version__)
        finish(staging, out, manifest)
        staging = None
        if remote_out:
            from .remote import publish_index

            publish_index(out, output, overwrite=overwrite)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return BuildSummary(Path(output) if not remote_out else output,  # type: ignore[arg-type]
                        runner, manifest, time.monotonic() - started, size, result.notes)
