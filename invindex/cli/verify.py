"""``invindex verify INDEX``: check every byte of an index against its manifest."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "verify", help="check an index for damage (sizes, checksums, order, counts)",
        description="Read the whole index and check it: the manifest against its schema, "
                    "each part's size and CRC32C against the manifest, every line "
                    "(canonical JSON, df, postings in doc_id order), the sort order, each "
                    "term in exactly one part (its partition), the document table, and "
                    "the counts against the manifest. Prints each problem; exit status 1 "
                    "when there is one.")
    p.add_argument("index", metavar="INDEX")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..index import IndexReader, integrity  # on use: start time (see invindex.cli)

    reader = IndexReader(args.index)  # the manifest's schema is checked here
    report = integrity.verify(reader.location, reader.manifest, reader.file_size,
                              reader.open_file)
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(problem)
    if report.problems:
        raise integrity.DamagedIndex(f"{reader.location}: {len(report.problems)} "
                                     "problem(s) found; rebuild the index")
    checked = "sizes and checksums match the manifest" if reader.manifest.get(
        "part_files") else "no sizes or checksums recorded"
    print(f"{reader.location}: ok: {report.parts} part(s), {report.lines:,} lines, "
          f"{report.bytes / 1e6:,.1f} MB; {checked}; lines, order, partitions and counts "
          "check out")
    return 0
