"""``invindex search INDEX [QUERY] [--queries FILE]``: ranked search (BM25)."""

from __future__ import annotations

import argparse
import sys
from typing import Iterator, Tuple

from ..core import scoring
from ..errors import UsageError

FORMATS = ("text", "tsv", "trec", "json")


def register(sub) -> None:
    p = sub.add_parser(
        "search", help="ranked search (BM25) with boolean and phrase queries",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Search an index (a directory or a cloud URI, read in place).\n\n"
                    "Query language (a subset of Lucene's): words; +word (required); "
                    "-word (excluded);\n\"a phrase\" (also +\"...\", -\"...\"); AND, OR, "
                    "NOT and parentheses. OR is the\ndefault between clauses. Words are "
                    "analyzed with the index's own analyzer.\nScoring: BM25 (Lucene's, "
                    "exact document lengths); ties by doc_id.",
        epilog="A QUERY that starts with '-' needs a space in it to be taken for a query "
               "('-spam eggs'); '-spam' alone would match nothing anyway. "
               "Exit status: 0, also when nothing matches; 2 for a query that does not "
               "parse; 1 for an index that cannot be searched (e.g. format 1: rebuild).")
    p.add_argument("index", metavar="INDEX")
    p.add_argument("query", nargs="?", metavar="QUERY")
    p.add_argument("--queries", metavar="FILE",
                   help="qid<TAB>query lines ('-' for stdin) instead of QUERY")
    p.add_argument("-k", type=int, default=10, metavar="N",
                   help="how many results per query (default 10)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text (default); tsv: [qid<TAB>]rank<TAB>doc_id<TAB>score; "
                        "trec: qid Q0 doc_id rank score invindex; json")
    p.add_argument("--k1", type=float, default=scoring.K1,
                   help=f"BM25 k1 (default {scoring.K1})")
    p.add_argument("--b", type=float, default=scoring.B, help=f"BM25 b (default {scoring.B})")
    p.add_argument("--compact", action="store_true",
                   help="read postings from a compact binary copy of a local index, built "
                        "on first use (one full read) and kept in $INVINDEX_CACHE or "
                        "~/.cache/invindex: for many queries on a large index")
    p.add_argument("--snippets", action="store_true",
                   help="show a fragment of each hit's text around its best match, "
                        "matches marked **like this** (text and json formats; the index "
                        "must be built with --store-text)")
    p.set_defaults(func=run)


def _queries(path: str) -> Iterator[Tuple[str, str]]:
    f = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    try:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            qid, tab, query = line.partition("\t")
            if not tab or not qid:
                raise UsageError(f"{path}:{n}: expected qid<TAB>query, got {line[:60]!r}")
            yield qid, query
    finally:
        if f is not sys.stdin:
            f.close()


def run(args: argparse.Namespace) -> int:
    if (args.query is None) == (args.queries is None):
        raise UsageError("give a QUERY or --queries FILE (not both)")
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    try:  # numpy is the search extra's: without it, the other commands still work
        from ..search.compact import CompactIndex
        from ..search.output import format_results
        from ..search.query import QuerySyntaxError
        from ..search.searcher import Searcher
        from ..stores import open_source
    except ModuleNotFoundError as e:
        raise UsageError(f"search needs {e.name}: pip install 'invindex[search]'") from None
    source = open_source(args.index)  # an index directory, cloud URI or store URI
    index = None
    if args.compact:
        if "://" in args.index and not args.index.startswith("file://"):
            raise UsageError("--compact is for local indexes (a cloud index is read in "
                             "place, term by term)")
        index = CompactIndex.open(source.reader, source.doc_lengths)
    searcher = Searcher(source, k1=args.k1, b=args.b, index=index)
    out = sys.stdout
    if args.query is not None:
        results = searcher.search(args.query, args.k, args.snippets)
        for line in format_results(results, args.format):
            out.write(line + "\n")
        return 0
    for qid, query in _queries(args.queries):
        try:
            results = searcher.search(query, args.k, args.snippets)
        except QuerySyntaxError as e:
            raise QuerySyntaxError(f"query {qid}: {e}") from None
        for line in format_results(results, args.format, qid):
            out.write(line + "\n")
    return 0
