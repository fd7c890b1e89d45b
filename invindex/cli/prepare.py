"""``invindex prepare (DIR | FILE.jsonl) > docs.tsv``: make records from other layouts."""

from __future__ import annotations

import argparse
import sys
from collections import Counter


def register(sub) -> None:
    p = sub.add_parser(
        "prepare", help="turn text files or JSON lines into doc_id<TAB>text records",
        description="Write doc_id<TAB>text records to stdout from a directory of text "
                    "files (doc_id = path relative to DIR; read with build's rules: names "
                    "starting with _ or . skipped, .gz/.bz2 decompressed, binary files "
                    "skipped) or from JSON lines of "
                    '{"id": ..., "contents": ...} (Pyserini\'s layout). Tabs, newlines and '
                    "other line breaks in the text are collapsed to single spaces.")
    p.add_argument("source", metavar="DIR|FILE.jsonl")
    p.add_argument("--id-field", default="id", help="JSON field holding the id (default id)")
    p.add_argument("--text-field", default="contents",
                   help="JSON field holding the text (default contents)")
    p.add_argument("--encoding", default="utf-8",
                   help="encoding of the files in DIR (default utf-8); a file that is not "
                        "text in it is skipped and counted")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..prepare import prepare_records  # on use: start time (see invindex.cli)

    out = sys.stdout.buffer
    n = 0
    skipped: Counter = Counter()
    for line in prepare_records(args.source, args.id_field, args.text_field,
                                args.encoding, skipped):
        out.write(line)
        n += 1
    out.flush()
    if not args.quiet:
        why = ", ".join(f"{k:,} {reason}" for reason, k in sorted(skipped.items()))
        print(f"prepared {n:,} records" + (f", skipped {why} (see warnings)"
                                           if skipped else ""), file=sys.stderr)
    return 0
