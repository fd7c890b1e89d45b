"""``invindex build INPUT... --output DIR``."""

from __future__ import annotations

import argparse
import sys
import textwrap
from typing import Any, Dict

from ..config import build_table
from ..core.analysis import add_analyzer_arguments, analyzer_from_args
from ..errors import UsageError
from ..runners import DEFAULT_RUNNER, RUNNERS, get_runner, spark_watchdog
from ..runners.cluster import EMR_DEFAULTS, parse_option


def register(sub) -> None:
    runners = "\n".join(f"  {name:8} {textwrap.fill(what, 70, subsequent_indent=' ' * 11)}"
                        for name, what in ((r.name, r.help) for r in RUNNERS.values()))
    p = sub.add_parser(
        "build", help="build an index from doc_id<TAB>text files",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Build an inverted index from doc_id<TAB>text records.\n\n"
                    "INPUT is a file, a glob or a directory (walked recursively; names "
                    "starting with _ or . are skipped there), plain, .gz or .bz2.\n"
                    "Bad records (no tab, empty doc_id, control characters in the doc_id, "
                    "invalid UTF-8) are counted, reported and skipped; --strict stops at "
                    "the first.\n\nrunners:\n" + runners,
        epilog="\n\n".join(textwrap.fill(t, 80) for t in (
            "The index is built beside OUTPUT under a hidden temporary name and renamed "
            "into place when complete (manifest and _SUCCESS written last). With "
            "--runner emr|hadoop|dataproc, s3://, gs:// and hdfs:// INPUTs and OUTPUT "
            "are used in place: the job's parts appear when it commits, then the "
            "manifest, then _SUCCESS.",
            "Runner options are mrjob's option names (release_label, instance_type, "
            "num_core_instances, cloud_log_dir, python_bin, ...): the flags above, "
            "-O KEY=VALUE, a [build.RUNNER] table in invindex.toml, or mrjob.conf "
            "(see sample_data/invindex.toml and sample_data/mrjob.conf).")))
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="index directory")
    p.add_argument("-r", "--runner", default=DEFAULT_RUNNER, choices=list(RUNNERS),
                   help=f"how to run the job (default: {DEFAULT_RUNNER})")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    p.add_argument("--strict", action="store_true",
                   help="fail on the first bad record instead of skipping it")
    p.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                   help="parallel workers (default: number of CPUs)")
    p.add_argument("--memory", type=int, default=1024, metavar="MB",
                   help="memory budget in MB for the fast and pipe runners (default 1024)")
    p.add_argument("--parts", type=int, default=None, metavar="N",
                   help="number of index parts for the fast runner (default: --jobs), "
                        "and the reduce tasks of spark/emr/hadoop/dataproc")
    p.add_argument("--engine", choices=["auto", "arrow", "python"], default="auto",
                   help="the fast runner's inverter: arrow (numpy+pyarrow, the default "
                        "when installed) or pure python; the index is the same")
    add_analyzer_arguments(p)
    c = p.add_argument_group("cluster runners (spark, emr, hadoop, dataproc)")
    c.add_argument("--spark-master", metavar="URL",
                   help="spark: local[N] (default local[--jobs]) or spark://HOST:PORT")
    c.add_argument("--spark-tmp-dir", metavar="DIR",
                   help="spark: scratch directory the executors can read (default: a "
                        "local temporary directory, right for local[N] and one host)")
    c.add_argument("--spark-start-timeout", type=float, metavar="SECONDS",
                   help="spark: stop a job no worker has accepted after this long (default "
                        f"{spark_watchdog.DEFAULT_WAIT_S:g}; 0 waits for ever)")
    c.add_argument("--cluster-id", metavar="ID",
                   help="emr: run on this cluster (j-...; e.g. from `invindex cluster up`), "
                        "which is left running; dataproc: the cluster's name (required)")
    c.add_argument("--emr-release", metavar="LABEL",
                   help=f"emr: release label of a new cluster (default "
                        f"{EMR_DEFAULTS['release_label']}: python3 is 3.9 there)")
    c.add_argument("--instance-type", metavar="TYPE",
                   help="emr: instance type of a new cluster's nodes (master too, unless "
                        "-O master_instance_type=...)")
    c.add_argument("--num-workers", type=int, metavar="N",
                   help="emr: core instances of a new cluster")
    c.add_argument("--region", metavar="REGION", help="emr, dataproc: the cloud region")
    c.add_argument("--project", metavar="ID", help="dataproc: the GCP project")
    c.add_argument("--mrjob-conf", metavar="PATH",
                   help="mrjob.conf to read (default: $MRJOB_CONF, ~/.mrjob.conf, "
                        "/etc/mrjob.conf)")
    c.add_argument("-O", "--runner-option", action="append", default=None,
                   metavar="KEY=VALUE",
                   help="any mrjob option of the runner, VALUE as JSON or a string "
                        "(repeatable), e.g. -O cloud_log_dir=s3://b/logs/ "
                        "-O num_core_instances=4")
    p.set_defaults(func=run, config_tables=tuple(RUNNERS))


MIN_MEMORY_MB = 64  # below this no runner can work; fast warns below what it needs

# flag -> the runner option it sets (mrjob's names; dataproc's are its own)
_FLAG_OPTIONS = {
    "spark_master": "spark_master", "spark_tmp_dir": "spark_tmp_dir",
    "cluster_id": "cluster_id", "emr_release": "release_label",
    "instance_type": "instance_type", "num_workers": "num_core_instances",
    "region": "region", "project": "project_id",
}


def runner_options(args: argparse.Namespace) -> Dict[str, Any]:
    """``[build.<runner>]`` from the config file, then the flags, then ``-O``."""
    entry = get_runner(args.runner)
    opts: Dict[str, Any] = {}
    table = build_table(args, args.runner)
    opts.update({k.replace("-", "_"): v for k, v in table.items()})
    for flag, name in _FLAG_OPTIONS.items():
        value = getattr(args, flag, None)
        if value is not None:
            opts[name] = value
            if name in entry.implied_options:  # emr: --instance-type is every node's
                opts.setdefault(entry.implied_options[name], value)
    given = args.runner_option or []
    for text in [given] if isinstance(given, str) else given:
        key, value = parse_option(text)
        opts[key] = value
    if opts and "runner_options" not in entry.takes:
        *most, last = [r.name for r in RUNNERS.values() if "runner_options" in r.takes]
        raise UsageError(f"runner options ({', '.join(sorted(opts))}) apply to the "
                         f"{', '.join(most)} and {last} runners, not {args.runner}")
    return opts


def run(args: argparse.Namespace) -> int:
    for flag, value, least in (("--jobs", args.jobs, 1), ("--parts", args.parts, 1),
                               ("--memory", args.memory, MIN_MEMORY_MB)):
        if value is not None and value < least:
            raise UsageError(f"{flag} must be at least {least} (got {value})")
    try:
        analyzer = analyzer_from_args(args)
    except (ValueError, OSError) as e:
        raise UsageError(str(e)) from None
    from ..build import build_index  # on use: start time (see invindex.cli)

    summary = build_index(args.inputs, args.output, analyzer, runner=args.runner,
                          overwrite=args.overwrite, strict=args.strict, jobs=args.jobs,
                          memory_mb=args.memory, parts=args.parts, engine=args.engine,
                          runner_options=runner_options(args), mrjob_conf=args.mrjob_conf,
                          spark_start_timeout=args.spark_start_timeout)
    for note in summary.notes:
        print(f"invindex: warning: {note}", file=sys.stderr)
    if not args.quiet:
        print(summary.text(), file=sys.stderr)
    return 0
