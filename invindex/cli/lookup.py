"""``invindex lookup INDEX TERM...``: print each term's index line."""

from __future__ import annotations

import argparse
import json
import sys

from ..stores import open_reader


def register(sub) -> None:
    p = sub.add_parser(
        "lookup", help="print the postings of terms",
        description="Look terms up in an index. Each TERM is analyzed with the analyzer "
                    "recorded in the index's manifest (lowercased, stemmed, ...), so "
                    "`Running` finds `run` in a stemmed index. Prints one "
                    "term<TAB>{json} line per term found. Exit status 1 if any term is "
                    "absent (or is only stopwords).")
    p.add_argument("index", metavar="INDEX")
    p.add_argument("terms", nargs="+", metavar="TERM")
    p.add_argument("--docs", action="store_true",
                   help="print only the doc ids, one per line; with several terms each "
                        "line is term<TAB>doc_id")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    reader = open_reader(args.index)  # an index directory, cloud URI or store URI
    missing = 0
    analyzed = [(raw, reader.analyzer.terms(raw)) for raw in args.terms]
    label = sum(len(terms) for _, terms in analyzed) > 1
    for raw, terms in analyzed:
        if not terms:
            print(f"invindex: {raw!r} has no indexable term", file=sys.stderr)
            missing += 1
        for term in terms:
            line = reader.lookup_line(term)
            if line is None:
                print(f"invindex: {term!r} not in index", file=sys.stderr)
                missing += 1
            elif args.docs:
                for posting in json.loads(line.partition("\t")[2])["postings"]:
                    print(f"{term}\t{posting[0]}" if label else posting[0])
            else:
                print(line)
    return 1 if missing else 0
