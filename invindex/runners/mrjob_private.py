"""Every use of mrjob's private attributes, in this one module.

Why they are touched at all: mrjob 0.7.4 is pinned (its last release, so these names
do not move) and has no public way to do any of the following; each function names
the attribute it reads or wraps and what the public API lacks. Nothing else in invindex
reads an ``mr._name`` (``tests/test_architecture.py`` checks it), so a different mrjob
is checked here alone.
"""

from __future__ import annotations

from typing import Any, Callable, List


def option(mr: Any, name: str) -> Any:
    """The value of runner option ``name`` the run really uses (our defaults, mrjob.conf
    and the command line merged): only the private ``_opts`` holds it."""
    return mr._opts.get(name)


def spark_tmp_dir(mr: Any) -> str:
    """The Spark runner's ``_spark_tmp_dir`` (``spark_tmp_dir`` resolved to a URI), where
    its harness writes the counters; no public accessor."""
    return mr._spark_tmp_dir


def step_ids(mr: Any) -> List[str]:
    """The EMR steps this run added (``_step_ids``; empty before any was added), for
    cancelling them on a cluster that is not ours; no public accessor."""
    return list(getattr(mr, "_step_ids", []) or [])


def fix_spark_job_args(mr: Any) -> None:
    """mrjob 0.7.4 passes the job's own options to its Spark harness as
    ``--job-args '--stem ...'``, which argparse takes for a missing value (``expected one
    argument``): any analyzer option broke the spark runner. ``--job-args=...`` parses.
    The arguments are built by the private ``_spark_script_args``, so that is wrapped."""
    original = mr._spark_script_args

    def script_args(*args: Any, **kwargs: Any) -> List[str]:
        out = list(original(*args, **kwargs))
        if "--job-args" in out:
            i = out.index("--job-args")
            out[i:i + 2] = [f"--job-args={out[i + 1]}"]
        return out

    mr._spark_script_args = script_args


def use_spark_harness(mr: Any, path: str) -> None:
    """Run the script at ``path`` (``spark_harness.py``, which wraps mrjob's harness)
    instead of mrjob's Spark harness: the runner takes the harness's path from its
    private ``_spark_harness_path``, with no option to give another."""
    mr._spark_harness_path = lambda: path


def feed_spark_log(mr: Any, see: Callable[[str], None]) -> None:
    """Call ``see(message)`` for every log4j record of the spark-submit run of ``mr``
    (a SparkMRJobRunner). mrjob has no public hook for the driver's lines, and its
    logging drops INFO ones below the CLI's level, so the record callback of its
    private ``_run_spark_submit`` is wrapped."""
    original = mr._run_spark_submit

    def run_spark_submit(args: Any, env: Any, record_callback: Callable[[dict], None]):
        def feed(record: dict) -> None:
            see(record.get("message") or "")
            record_callback(record)

        return original(args, env, feed)

    mr._run_spark_submit = run_spark_submit
