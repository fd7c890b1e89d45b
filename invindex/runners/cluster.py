"""Settings and safety for the runners that leave this machine (spark, emr, hadoop).

- Runner options are mrjob's own option names (``release_label``, ``instance_type``,
  ``spark_master``, ...), so mrjob's documentation applies unchanged. They come, lowest
  precedence first, from our defaults, the user's ``mrjob.conf`` (``--mrjob-conf``, else
  mrjob's usual ``$MRJOB_CONF``/``~/.mrjob.conf``/``/etc/mrjob.conf``), the
  ``[build.<runner>]`` table of ``invindex.toml``, and the command line
  (``--cluster-id`` ..., ``-O key=value``). They reach mrjob as generated conf files
  (``-c`` repeated; later files win), so lists, dicts and booleans keep mrjob's meaning.
- ``interruptible()`` (``invindex.interrupt.handled``) turns SIGTERM/SIGHUP into the
  KeyboardInterrupt Ctrl-C raises, so that mrjob's cleanup runs and terminates a
  cluster this run created (never a given ``cluster_id`` or a pooled cluster; mrjob
  decides that the same way).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping

from ..errors import InvindexError, UsageError
from ..interrupt import handled
from ..provision.state import emr_region
from . import spark_python

log = logging.getLogger(__name__)

# EMR 7 nodes run Amazon Linux 2023, whose python3 is 3.9: the oldest the core supports
# (mrjob 0.7.4's own default, emr-6.0.0, has 3.7). The roles are the ones
# `aws emr create-default-roles` and `invindex cluster up` use, so mrjob does not create
# IAM roles of its own. The tag marks clusters a build created (and terminates).
EMR_DEFAULTS: Dict[str, Any] = {
    "release_label": "emr-7.1.0",
    "iam_service_role": "EMR_DefaultRole",
    "iam_instance_profile": "EMR_EC2_DefaultRole",
    "tags": {"managed-by": "invindex"},
}

# Hadoop would write its own _SUCCESS when the job commits, before our manifest: the
# index's _SUCCESS must be the last object written, so Hadoop's is switched off.
NO_HADOOP_SUCCESS = "mapreduce.fileoutputcommitter.marksuccessfuljobs=false"


# mrjob's runner classes by its -r alias (imported only when options are checked)
_RUNNER_CLASSES = {"spark": ("mrjob.spark.runner", "SparkMRJobRunner"),
                   "emr": ("mrjob.emr", "EMRJobRunner"),
                   "hadoop": ("mrjob.hadoop", "HadoopJobRunner")}


def _runner_class(runner: str):
    module, name = _RUNNER_CLASSES[runner]
    return getattr(importlib.import_module(module), name)


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from ``-O``: VALUE as JSON when it parses (numbers, booleans,
    lists, objects), else as a string. ``spark-master`` and ``spark_master`` are one key."""
    key, eq, value = text.partition("=")
    if not eq or not key.strip():
        raise UsageError(f"-O expects KEY=VALUE (an mrjob option), got {text!r}")
    try:
        parsed: Any = json.loads(value)
    except ValueError:
        parsed = value
    return key.strip().replace("-", "_"), parsed


def check_options(runner: str, opts: Mapping[str, Any]) -> None:
    """Refuse option names the runner does not know, before any cluster is touched."""
    known = _runner_class(runner).OPT_NAMES
    unknown = sorted(k for k in opts if k not in known)
    if unknown:
        raise UsageError(f"unknown option(s) for the {runner} runner: {', '.join(unknown)} "
                         "(runner options are mrjob's option names, e.g. "
                         "release_label, instance_type, num_core_instances, cluster_id)")


def _spark_defaults(jobs: int, workdir: Path, opts: Mapping[str, Any]) -> Dict[str, Any]:
    # A plain local spark_tmp_dir: for a spark:// master mrjob would otherwise pick
    # hdfs:///, then fail looking for `hadoop`. This python (which has pyspark) runs
    # the driver and the tasks; on a local master through a script (in this build's
    # scratch directory, so only where it runs on this machine) that imports pyspark
    # compiled rather than from Spark's zip.
    master = str(opts.get("spark_master") or "local")
    python = spark_python.python_bin(workdir) if master.startswith("local") else sys.executable
    return {"spark_master": f"local[{jobs}]", "spark_tmp_dir": str(workdir / "spark"),
            "python_bin": [python]}


def _emr_defaults(jobs: int, workdir: Path, opts: Mapping[str, Any]) -> Dict[str, Any]:
    base = dict(EMR_DEFAULTS)
    region = emr_region(opts["cluster_id"]) if opts.get("cluster_id") else None
    if region:  # the given cluster's own region, not mrjob's default us-west-2
        base["region"] = region
    return base


_DEFAULTS = {"emr": _emr_defaults,
             "spark": _spark_defaults}


def defaults(runner: str, jobs: int, workdir: Path,
             opts: Mapping[str, Any] | None = None) -> Dict[str, Any]:
    """Our defaults for an mrjob runner, below the user's mrjob.conf and options."""
    make = _DEFAULTS.get(runner)
    return make(jobs, workdir, opts or {}) if make else {}


def conf_args(runner: str, opts: Mapping[str, Any], workdir: Path, jobs: int,
              user_conf: str | None = None) -> List[str]:
    """``-c`` arguments for mrjob: our defaults, the user's mrjob.conf, then ``opts``."""
    from mrjob.conf import find_mrjob_conf

    check_options(runner, opts)
    conf_dir = workdir / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    paths: List[str] = []
    base = defaults(runner, jobs, workdir, opts)
    for name, values in (("defaults", base), ("user", None),
                         ("options", dict(opts))):
        if name == "user":
            conf = user_conf or find_mrjob_conf()
            if user_conf and not Path(user_conf).is_file():
                raise UsageError(f"mrjob conf file not found: {user_conf}")
            if conf:
                paths.append(str(conf))
            continue
        path = conf_dir / f"mrjob-{name}.conf"
        path.write_text(json.dumps({"runners": {runner: values}}, indent=1), "utf-8")
        paths.append(str(path))
    return [arg for p in paths for arg in ("-c", p)]


def check_spark() -> None:
    """One line instead of a Java stack or an ImportError deep inside mrjob."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise InvindexError("the spark runner needs pyspark: pip install 'invindex[spark]'") \
            from None
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and Path(java_home, "bin", "java").exists()) and not shutil.which("java"):
        raise InvindexError("the spark runner needs Java 17 (set JAVA_HOME or put `java` on "
                            "PATH)")


def check_hadoop(opts: Mapping[str, Any]) -> None:
    given = opts.get("hadoop_bin")
    if given:
        return
    home = os.environ.get("HADOOP_PREFIX") or os.environ.get("HADOOP_HOME")
    if (home and Path(home, "bin", "hadoop").exists()) or shutil.which("hadoop"):
        return
    raise InvindexError("the hadoop runner needs a Hadoop client: `hadoop` on PATH or "
                        "$HADOOP_HOME (or -O hadoop_bin=PATH); to submit by hand, see "
                        "`invindex hadoop-command`")


def check_aws() -> None:
    try:
        import boto3
    except ImportError:
        raise InvindexError("the emr runner needs boto3: pip install 'invindex[aws]'") \
            from None
    if boto3.Session().get_credentials() is None:
        raise InvindexError("no AWS credentials found (boto3's default chain: environment, "
                            "profile, SSO, instance role); the emr runner needs them")


interruptible = handled  # SIGTERM/SIGHUP like Ctrl-C, so mrjob's cleanup runs
