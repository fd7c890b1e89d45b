"""``build`` for the runners that read and write cloud or HDFS URIs in place.

emr, hadoop and dataproc never stage data on this machine: local inputs are uploaded by
the runner, cloud inputs are read where they are, and a cloud/HDFS output is written by
the job itself. Hadoop's output committer keeps task output under
``OUTPUT/_temporary/`` until the job commits (and its own ``_SUCCESS`` is switched off);
then the manifest is written, then ``_SUCCESS``: no reader ever sees a half index as
complete. Replacing an index (``--overwrite``) deletes its ``_SUCCESS`` first, then the
rest, before the job runs (Hadoop refuses an existing output directory). A local output
is built from the job's parts downloaded into a staging directory, like every runner's.
"""

from __future__ import annotations

import logging
import posixpath
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import urlparse

from .. import __version__
from ..core import indexfmt
from ..core.analysis import Analyzer
from ..index import Counts, OutputExists, finish, list_parts, staging_dir, utc_now
from ..inputs import expand_inputs, total_size
from .base import BuildRequest, BuildResult

log = logging.getLogger(__name__)
_STORE_SCHEMES = ("s3", "s3a", "s3n", "gs", "az")


def is_uri(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


class Destination:
    """The few operations that finish an index at a URI: list, delete, put.

    s3/gs/az go through ``invindex.storage`` (verified uploads); anything else
    (``hdfs://``, ``viewfs://``...) through mrjob's ``hadoop fs`` wrapper.
    """

    def __init__(self, uri: str, hadoop_bin: Any = None) -> None:
        self.uri = uri.rstrip("/")
        scheme = self.uri.split("://", 1)[0]
        self._store = self._fs = None
        if scheme in _STORE_SCHEMES:
            from ..storage import get_store, parse_uri

            loc = parse_uri(self.uri.replace("s3a://", "s3://").replace("s3n://", "s3://"))
            self._store, self._prefix = get_store(loc), loc.key.rstrip("/")
        else:
            from mrjob.fs.hadoop import HadoopFilesystem

            self._fs = HadoopFilesystem(hadoop_bin or None)

    def _key(self, name: str) -> str:
        return f"{self._prefix}/{name}" if self._prefix else name

    def names(self) -> List[str]:
        """Every object below the prefix, relative to it."""
        if self._store is not None:
            start = len(self._prefix) + 1 if self._prefix else 0
            return sorted(i.key[start:] for i in self._store.list(self._key(""))
                          if not i.is_dir)
        if not self._fs.exists(self.uri):
            return []
        base = urlparse(self.uri).path.rstrip("/")
        return sorted(posixpath.relpath(urlparse(p).path, base) for p in self._fs.ls(self.uri))

    def delete(self, name: str) -> None:
        if self._store is not None:
            self._store.delete(self._key(name))
        else:
            self._fs.rm(f"{self.uri}/{name}")

    def put(self, name: str, data: bytes) -> None:
        if self._store is not None:
            self._store.put_bytes(self._key(name), data)
            return
        with tempfile.TemporaryDirectory(prefix="invindex-put-") as tmp:
            path = Path(tmp, name)
            path.write_bytes(data)
            self._fs.put(str(path), f"{self.uri}/{name}")

    def clear(self, overwrite: bool) -> None:
        """Refuse an existing output, or empty it with ``_SUCCESS`` going first."""
        old = self.names()
        if not old:
            return
        if not overwrite:
            raise OutputExists(f"output {self.uri} already exists (use --overwrite to "
                               "replace it)")
        if indexfmt.SUCCESS in old:
            self.delete(indexfmt.SUCCESS)
        if self._fs is not None:
            self._fs.rm(self.uri)
            return
        for name in old:
            if name != indexfmt.SUCCESS:
                self.delete(name)


def _run(runner: str, req: BuildRequest, inputs: List[str], output: str | None) -> BuildResult:
    if runner == "dataproc":
        from . import dataproc

        return dataproc.run(req, inputs, output)
    from . import mrjob_runner

    return mrjob_runner.run_cluster(req, runner, inputs, output)


def build_on_cluster(inputs: List[str], output: str, analyzer: Analyzer, runner: str, *,
                     overwrite: bool = False, strict: bool = False, jobs: int | None = None,
                     memory_mb: int = 1024, options: Dict[str, Any] | None = None) -> Any:
    """Run the job on the cluster and finish the index; returns a ``BuildSummary``."""
    from ..build import BuildSummary

    started = time.monotonic()
    options = options or {}
    opts = options.get("runner_options") or {}
    # refuse unknown or missing options before touching any storage or cluster
    if runner == "dataproc":
        from .dataproc import settings

        settings(dict(opts), output if is_uri(output) else None)
    else:
        from .cluster import check_options
        from .mrjob_runner import _import_job

        _import_job()
        check_options(runner, opts)
        if runner == "hadoop":
            from .cluster import check_hadoop

            check_hadoop(opts)
    local = [i for i in inputs if not is_uri(i)]
    files = expand_inputs([i.removeprefix("file://") for i in local]) if local else []
    job_inputs = [str(f) for f in files] + [i for i in inputs if is_uri(i)]
    remote_out = is_uri(output)
    workdir = Path(tempfile.mkdtemp(prefix="invindex-work-"))
    staging: Path | None = None
    dest: Destination | None = None
    try:
        if remote_out:
            dest = Destination(output, opts.get("hadoop_bin"))
            dest.clear(overwrite)
            out = None
        else:
            out = Path(output.removeprefix("file://"))
            staging = staging_dir(out, overwrite)
        req = BuildRequest(files, analyzer, staging or workdir / "parts", workdir / "scratch",
                           strict=strict, memory_mb=memory_mb, options=options)
        if jobs:
            req.jobs = jobs
        result = _run(runner, req, job_inputs, dest.uri if dest else None)
        c = result.counters
        if not c:
            result.notes.append(f"the {runner} runner returned no counters (the job's logs "
                                "were not readable): the manifest's counts are zero")
        counts = Counts.from_counters(c)
        parts = ([n for n in dest.names() if posixpath.dirname(n) == "" and
                  n.startswith("part-")] if dest else list_parts(req.staging))
        manifest = indexfmt.make_manifest(
            analyzer=analyzer.to_manifest(), counts=counts.as_dict(), parts=parts,
            partitioning={"scheme": indexfmt.HADOOP_KEYFIELD, "num_parts": len(parts)},
            runner=runner, inputs=job_inputs if any(is_uri(i) for i in inputs) else
            [str(f) for f in files], created=utc_now(), version=__version__)
        if dest is not None:
            dest.put(indexfmt.MANIFEST, indexfmt.dump_manifest(manifest))
            dest.put(indexfmt.SUCCESS, b"")
        else:
            finish(req.staging, out, manifest)  # type: ignore[arg-type]
            staging = None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return BuildSummary(output if remote_out else Path(output), runner, manifest,
                        time.monotonic() - started, total_size(files), result.notes)
