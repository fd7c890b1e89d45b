"""``--runner inline|local`` (and, later, spark/emr/hadoop/dataproc) through mrjob.

The job class lives in ``jobs/mr_invindex.py``; this module only turns a
``BuildRequest`` into mrjob arguments and mrjob's counters back into ours.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Dict, List

from ..core import counters, indexfmt
from ..core.records import BadRecordError
from ..errors import InvindexError
from .base import BuildRequest, BuildResult

log = logging.getLogger(__name__)

MRJOB_RUNNERS = ("inline", "local")


def _import_job():
    try:
        from jobs.mr_invindex import MRInvertedIndex
    except ImportError as e:
        if "mrjob" in str(e) or "distutils" in str(e) or "pipes" in str(e):
            raise InvindexError(
                f"the mrjob runners need mrjob 0.7.4 on Python 3.11/3.12 "
                f"(pip install 'invindex[mrjob]'): {e}") from None
        raise
    return MRInvertedIndex


def job_args(req: BuildRequest, runner: str, output_dir: Path) -> List[str]:
    args = ["-r", runner, "--output-dir", str(output_dir), "--no-output",
            "--local-tmp-dir", str(req.workdir)]
    a = req.analyzer
    if a.stopwords_name == "english":
        args += ["--stopwords", "english"]
    elif a.stopwords_name:
        args += ["--stopwords-file", a.stopwords_name]
    if a.stem:
        args.append("--stem")
    if a.min_token_length != 1:
        args += ["--min-token-length", str(a.min_token_length)]
    if a.max_token_length is not None:
        args += ["--max-token-length", str(a.max_token_length)]
    if not a.positions:
        args.append("--no-positions")
    if req.strict:
        args.append("--strict")
    return args + [str(p) for p in req.inputs]


def _strict_failure(workdir: Path) -> str | None:
    """The bad-record message a strict mapper died with, from the task logs."""
    for stderr in sorted(workdir.rglob("stderr")):
        for line in stderr.read_text("utf-8", "replace").splitlines():
            if "BadRecordError: " in line:
                return line.split("BadRecordError: ", 1)[1]
    return None


def run(req: BuildRequest, runner: str) -> BuildResult:
    job_cls = _import_job()
    from mrjob.step import StepFailedException

    out_dir = req.workdir / "output"
    job = job_cls(args=job_args(req, runner, out_dir))
    try:
        with job.make_runner() as mr:
            mr.run()
            step_counters = mr.counters()
    except BadRecordError as e:
        raise InvindexError(str(e)) from None
    except StepFailedException as e:
        raise InvindexError(_strict_failure(req.workdir) or f"mrjob {runner} runner: {e}") \
            from None
    totals: Dict[str, int] = {}
    for step in step_counters:
        for name, n in step.get(counters.GROUP, {}).items():
            totals[name] = totals.get(name, 0) + n
    parts = sorted(p for p in out_dir.iterdir() if p.name.startswith("part-"))
    for i, p in enumerate(parts):
        shutil.move(str(p), req.staging / indexfmt.part_name(i))
    if req.on_progress:
        req.on_progress(sum(p.stat().st_size for p in req.inputs))
    # mrjob's local runners sort all reducer input globally and cut it into ranges.
    return BuildResult(totals, {"scheme": "range", "num_parts": len(parts)})
