"""``--runner inline|local|spark|emr|hadoop`` through mrjob.

The job class lives in ``jobs/mr_invindex.py`` (``invindex/runners/mr_invindex.py``
links to it, so an installed package has it); this module only turns a
``BuildRequest`` into mrjob arguments and mrjob's counters and output back into ours.
Beyond this machine (spark, emr, hadoop) the stdlib-only core travels as
``invindex.zip`` on the tasks' ``PYTHONPATH`` (mrjob's ``py_files``), runner options
come from ``cluster.conf_args``, and SIGTERM is handled like Ctrl-C so that mrjob's
cleanup terminates a cluster the run created.
"""

from __future__ import annotations

import logging
import posixpath
import shutil
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Sequence

from ..core import counters, indexfmt
from ..core.records import BadRecordError
from ..errors import InvindexError
from ..inputs import check_compressed, named_by_content
from . import cluster, mrjob_private, spark_harness, spark_watchdog
from .base import BuildRequest, BuildResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Traits:
    """What differs between mrjob's runners (keyed by mrjob's ``-r`` alias)."""

    ships_core: bool = False  # tasks leave this machine: invindex.zip, conf files, -D
    spark: bool = False  # mrjob's Spark harness (its quirks are worked around here)
    emr: bool = False  # a given/pooled cluster's steps are cancelled on interrupt


TRAITS = {"inline": Traits(), "local": Traits(), "spark": Traits(True, spark=True),
          "emr": Traits(True, emr=True), "hadoop": Traits(True)}


def _import_job():
    try:
        # jobs/mr_invindex.py, the file people read, is also this package's module
        # (a symlink): no top-level `jobs` package is installed.
        from .mr_invindex import MRInvertedIndex
    except ImportError as e:
        if "mrjob" in str(e) or "distutils" in str(e) or "pipes" in str(e):
            raise InvindexError(
                f"the mrjob runners need mrjob 0.7.4 on Python 3.11/3.12 "
                f"(pip install 'invindex[mrjob]'): {e}") from None
        raise
    return MRInvertedIndex


def analyzer_args(req: BuildRequest) -> List[str]:
    """The job's analyzer flags: the streaming scripts' ones, except that a stopword
    file goes in ``--stopwords-file`` so that mrjob uploads it to the nodes."""
    args = req.analyzer.to_args()
    if req.analyzer.stopwords_name not in (None, "english"):
        args[args.index("--stopwords")] = "--stopwords-file"
    if req.strict:
        args.append("--strict")
    return args


def job_args(req: BuildRequest, runner: str, output_dir: Path | str | None,
             inputs: Sequence[str] | None = None, extra: Sequence[str] = ()) -> List[str]:
    """mrjob's command line for the job (inputs default to ``req.inputs``)."""
    args = ["-r", runner, "--no-output", "--local-tmp-dir", str(req.workdir)]
    if output_dir is not None:
        args += ["--output-dir", str(output_dir)]
    traits = TRAITS[runner]
    if traits.ships_core:
        from .package import build_zip

        args += cluster.conf_args(runner, dict(req.runner_options), req.workdir, req.jobs,
                                  req.mrjob_conf)
        args += ["--py-files", str(build_zip(req.workdir / "package")),
                 "-D", cluster.NO_HADOOP_SUCCESS]
        if req.parts:
            args += ["-D", f"mapreduce.job.reduces={int(req.parts)}"]
    if traits.spark:
        args += ["--replacement-char-is-undecodable", "--notes-in-output"]  # see the job
    args += analyzer_args(req) + list(extra)
    return args + [str(p) for p in (req.inputs if inputs is None else inputs)]


class _FailureNotes(logging.Handler):
    """Keeps the bad-record message a strict task died with, from mrjob's log lines
    (Spark's driver output, Hadoop's probable cause of failure)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.message: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.message is None:
            text = record.getMessage()
            if "BadRecordError: " in text:
                self.message = text.split("BadRecordError: ", 1)[1].splitlines()[0].strip()


def _strict_failure(workdir: Path) -> str | None:
    """The bad-record message a strict mapper died with, from the task logs."""
    for stderr in sorted(workdir.rglob("stderr")):
        for line in stderr.read_text("utf-8", "replace").splitlines():
            if "BadRecordError: " in line:
                return line.split("BadRecordError: ", 1)[1]
    return None


def _totals(step_counters: List[Dict[str, Dict[str, int]]]) -> Dict[str, int]:
    totals: Dict[str, int] = {}
    for step in step_counters:
        counters.add(totals, step.get(counters.GROUP, {}))
    return totals


def _cancel_own_steps(mr: Any) -> None:
    """On an EMR cluster we were given (or a pooled one), stop our pending steps:
    the cluster is not ours to terminate, its queue is not ours to leave full."""
    step_ids = mrjob_private.step_ids(mr)
    cluster_id = mr.get_cluster_id() if hasattr(mr, "get_cluster_id") else None
    if not step_ids or not cluster_id:
        return
    try:
        mr.make_emr_client().cancel_steps(ClusterId=cluster_id, StepIds=step_ids)
        log.warning("cancelled step(s) %s on cluster %s (left running)",
                    ", ".join(step_ids), cluster_id)
    except Exception as e:  # best effort: the cluster itself is left alone anyway
        log.warning("could not cancel step(s) %s on cluster %s: %s",
                    ", ".join(step_ids), cluster_id, (str(e).splitlines() or [""])[0])


@contextmanager
def _lock_removed(mr: Any) -> Iterator[None]:
    """mrjob's setup wrapper locks ``/tmp/wrapper.lock.<job key>`` and never deletes it
    (one empty file left per local run): remove this job's when it ends."""
    try:
        yield
    finally:
        Path(f"/tmp/wrapper.lock.{mr.get_job_key()}").unlink(missing_ok=True)


def run_job(req: BuildRequest, runner: str, args: List[str],
            after: Callable[[Any], None] | None = None) -> Dict[str, int]:
    """Run the job and return our counters; ``after(mr)`` runs before mrjob's cleanup
    (which deletes the job's temporary output)."""
    job_cls = _import_job()
    from mrjob.step import StepFailedException

    notes = _FailureNotes()
    mrjob_log = logging.getLogger("mrjob")
    mrjob_log.addHandler(notes)
    job = job_cls(args=args)
    watch: Any = nullcontext()
    try:
        with cluster.interruptible(), job.make_runner() as mr, _lock_removed(mr):
            if TRAITS[runner].spark:
                mrjob_private.fix_spark_job_args(mr)
                mrjob_private.use_spark_harness(mr, spark_harness.__file__)
                watch = spark_watchdog.attach(mr, req.spark_start_timeout)
                tmp_dir = mrjob_private.spark_tmp_dir(mr)
                if not tmp_dir.startswith(("hdfs:", "s3:", "gs:")):
                    # the harness writes counters into a directory it assumes exists
                    Path(tmp_dir.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
            try:
                with watch:
                    mr.run()
            except KeyboardInterrupt:
                if TRAITS[runner].emr and (mrjob_private.option(mr, "cluster_id") or
                                           mrjob_private.option(mr, "pool_clusters")):
                    _cancel_own_steps(mr)
                raise
            if after is not None:
                after(mr)
            return _totals(mr.counters())
    except BadRecordError as e:
        raise InvindexError(str(e)) from None
    except StepFailedException as e:
        raise InvindexError(notes.message or _strict_failure(req.workdir)
                            or f"mrjob {runner} runner: {e}") from None
    finally:
        mrjob_log.removeHandler(notes)


def run_local(req: BuildRequest, runner: str) -> BuildResult:
    """inline, local: the job's output on this machine, its parts moved to staging."""
    out_dir = req.workdir / "output"
    # mrjob and Hadoop pick a codec by the file name; ours is the content's (magic bytes)
    check_compressed(req.inputs)
    named = replace(req, inputs=named_by_content(req.inputs, req.workdir))
    totals = run_job(req, runner, job_args(named, runner, out_dir))
    parts = sorted(p for p in out_dir.iterdir() if p.name.startswith("part-"))
    if req.on_progress:
        req.on_progress(sum(p.stat().st_size for p in req.inputs))
    for i, p in enumerate(parts):
        shutil.move(str(p), req.staging / indexfmt.part_name(i))
    # mrjob's local runners sort all reducer input globally and cut it into ranges.
    return BuildResult(totals, {"scheme": "range", "num_parts": len(parts)})


def run_cluster(req: BuildRequest, runner: str) -> BuildResult:
    """emr, hadoop: ``req.job_inputs`` as given (local files are uploaded by mrjob); the
    parts go to ``req.output_uri`` (a cloud/HDFS URI), or, when it is None, to the job's
    temporary output and are then downloaded into ``req.staging``."""
    from .hadoop_command import RECURSIVE_INPUT

    def download(mr: Any) -> None:
        out = mr.get_output_dir()
        paths = sorted(p for p in mr.fs.ls(out) if posixpath.basename(p).startswith("part-"))
        for i, path in enumerate(paths):
            with open(req.staging / indexfmt.part_name(i), "wb") as f:
                for chunk in mr.fs.cat(path):
                    f.write(chunk)

    args = job_args(req, runner, req.output_uri, req.job_inputs,
                    extra=["-D", RECURSIVE_INPUT])
    totals = run_job(req, runner, args, after=None if req.output_uri else download)
    return BuildResult(totals, {"scheme": indexfmt.HADOOP_KEYFIELD})


def check_cluster_options(req: BuildRequest, runner: str) -> None:
    """The job can be imported and mrjob knows every runner option."""
    _import_job()
    cluster.check_options(runner, req.runner_options)
