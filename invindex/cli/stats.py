"""``invindex stats INDEX [--png FILE]``: what is in an index."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import UsageError
from ..stores import open_reader


def register(sub) -> None:
    p = sub.add_parser(
        "stats", help="documents, tokens, vocabulary, top terms, distributions",
        description="Read a whole index once and report its documents, tokens and "
                    "vocabulary, the top terms by document frequency (df) and by "
                    "collection frequency (cf), and the distributions of document "
                    "lengths and df. --png adds a rank/frequency (Zipf) plot and a "
                    "document-length histogram (needs matplotlib: invindex[plot]).")
    p.add_argument("index", metavar="INDEX")
    p.add_argument("--top", type=int, default=20, metavar="N", help="top terms (default 20)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--png", metavar="FILE", help="write the plots to FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.png:
        try:
            import matplotlib  # noqa: F401
        except ModuleNotFoundError:
            raise UsageError("--png needs matplotlib: pip install 'invindex[plot]'") from None
    from ..search.stats import collect, plot, text_report  # on use: start time (see invindex.cli)

    reader = open_reader(args.index)  # an index directory, cloud URI or store URI
    stats = collect(reader.iter_lines(), args.top)
    if not stats.lengths:  # a format 1 index: no document table
        stats.documents = int(reader.manifest.get("counts", {}).get("documents", 0))
        stats.tokens = int(reader.manifest.get("counts", {}).get("tokens", 0))
    if args.format == "json":
        print(json.dumps(stats.as_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write("".join(line + "\n" for line in text_report(stats)))
    if args.png:
        plot(stats, args.png)
        print(f"plots written to {args.png}", file=sys.stderr)
    return 0
