"""``invindex build INPUT... --output DIR``."""

from __future__ import annotations

import argparse
import sys

from ..build import build_index
from ..core.analysis import add_analyzer_arguments, analyzer_from_args
from ..errors import UsageError
from ..runners import DEFAULT_RUNNER, RUNNERS


def register(sub) -> None:
    runners = "\n".join(f"  {name:8} {what}" for name, what in RUNNERS.items())
    p = sub.add_parser(
        "build", help="build an index from doc_id<TAB>text files",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Build an inverted index from doc_id<TAB>text records.\n\n"
                    "INPUT is a file, a glob or a directory (walked recursively; names "
                    "starting with _ or . are skipped there), plain, .gz or .bz2.\n"
                    "Bad records (no tab, empty doc_id, control characters in the doc_id, "
                    "invalid UTF-8) are counted, reported and skipped; --strict stops at "
                    "the first.\n\nrunners:\n" + runners,
        epilog="The index is built beside OUTPUT under a hidden temporary name and renamed "
               "into place when complete (manifest and _SUCCESS written last).")
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
                   help="number of index parts for the fast runner (default: --jobs)")
    p.add_argument("--engine", choices=["auto", "arrow", "python"], default="auto",
                   help="the fast runner's inverter: arrow (numpy+pyarrow, the default "
                        "when installed) or pure python; the index is the same")
    add_analyzer_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    try:
        analyzer = analyzer_from_args(args)
    except (ValueError, OSError) as e:
        raise UsageError(str(e)) from None
    summary = build_index(args.inputs, args.output, analyzer, runner=args.runner,
                          overwrite=args.overwrite, strict=args.strict, jobs=args.jobs,
                          memory_mb=args.memory,
                          options={"parts": args.parts, "engine": args.engine})
    for note in summary.notes:
        print(f"invindex: warning: {note}", file=sys.stderr)
    if not args.quiet:
        print(summary.text(), file=sys.stderr)
    return 0
