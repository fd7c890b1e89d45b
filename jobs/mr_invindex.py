"""The inverted-index job for mrjob: inline, local, spark, emr, hadoop.

Thin on purpose: parsing and bad records (``records.accept``), the map
(``mapping.map_record``), combine and reduce are the core's (``invindex.core``), so
this job, the streaming scripts and the fast engine write the same index. The
shuffle does the sorting: SORT_VALUES makes the key ``term<TAB>doc_id`` (two fields),
partitioned on the term alone, so each reducer sees postings in doc_id order.

Counts are taken on the reduce side only, from what came through the shuffle, so that
they stay exact when a map task runs twice: Spark reruns a finished map task whose
output was lost with its executor, and applies that task's accumulator updates (mrjob's
counters) again, while its shuffle output replaces the lost one. Documents and tokens
are the document table's entries and lengths; bad records ride the shuffle as
``$bad<TAB>kind<TAB>n<TAB>`` lines (``$`` starts no term and no document-table or
stored-text key), which the reducers count and never write. Reduce tasks write the
output, so each counts once (Hadoop keeps the successful attempt's counters; Spark
applies a result task's accumulator updates once). The bad records' notes ride the
shuffle too (``$note<TAB>note<TAB>1<TAB>``) and a reducer prints them (on Spark, writes
them as ``$note<TAB>note`` output lines, which the runner takes out): a rerun map
task's own stderr would print them a second time.
"""

from __future__ import annotations

import json
import os
import sys

from mrjob.job import MRJob
from mrjob.protocol import BytesValueProtocol, RawProtocol

try:
    from invindex.core import counters
except ImportError:  # a node where only the job file and the shipped zip are present
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "invindex.zip"))
    from invindex.core import counters

from invindex.core.analysis import Analyzer
from invindex.core.compression import BOM
from invindex.core.doctable import DOC_TABLE, key_counters
from invindex.core.mapping import map_record
from invindex.core.postings import combine_term, reduce_term
from invindex.core.records import UNDECODABLE, BadRecordLog, accept
from invindex.core.streaming import input_location

_FFFD = "\ufffd".encode("utf-8")
BAD_KEY = "$bad"  # counts of bad records, by kind, carried through the shuffle
NOTE_KEY = counters.NOTE_KEY  # the first few bad records' notes of each map task, likewise


def _doc_id(value: str) -> str:
    return value.split("\t", 1)[0]


class MRInvertedIndex(MRJob):
    INPUT_PROTOCOL = BytesValueProtocol  # bytes, so undecodable lines are ours to count
    INTERNAL_PROTOCOL = RawProtocol  # term<TAB>doc_id<TAB>tf<TAB>positions: the contract
    OUTPUT_PROTOCOL = RawProtocol  # term<TAB>{"df":...}
    SORT_VALUES = True

    def configure_args(self) -> None:
        super().configure_args()
        self.add_passthru_arg("--stopwords", default=None,
                              help="'english' (a file path goes in --stopwords-file)")
        self.add_file_arg("--stopwords-file", default=None, help="one stopword per line")
        self.add_passthru_arg("--stem", action="store_true")
        self.add_passthru_arg("--min-token-length", type=int, default=1)
        self.add_passthru_arg("--max-token-length", type=int, default=None)
        self.add_passthru_arg("--no-positions", dest="positions", action="store_false")
        self.add_passthru_arg("--store-text", action="store_true")
        self.add_passthru_arg("--strict", action="store_true")
        # Spark's textFile decodes lines in the JVM, replacing invalid UTF-8 with U+FFFD
        # before the mapper sees them; the spark runner sets this so that such a record
        # counts as undecodable, as its raw bytes do on every other runner (a genuine
        # U+FFFD in the input is then skipped too: the bytes are gone).
        self.add_passthru_arg("--replacement-char-is-undecodable", dest="fffd_bad",
                              action="store_true")
        # The spark runner's: notes become output lines (a reducer's stderr may be on
        # another host), which the runner takes out of the parts.
        self.add_passthru_arg("--notes-in-output", action="store_true")

    def _analyzer(self) -> Analyzer:
        o = self.options
        stop = o.stopwords_file or o.stopwords
        return Analyzer.from_options(stop, o.stem, o.min_token_length, o.max_token_length,
                                     o.positions, o.store_text)

    # -- map --------------------------------------------------------------------------
    def mapper_init(self) -> None:
        self._an = self._analyzer()
        self._line_no = 0
        self._bad = BadRecordLog(keep=5)
        self._source, self._split_start = input_location()
        self._fffd_bad = self.options.fffd_bad

    def mapper(self, _key, raw: bytes):
        self._line_no += 1
        if self._line_no == 1 and self._split_start == 0 and raw.startswith(BOM):
            raw = raw[len(BOM):]  # a byte-order mark starting the file (as records does)
        kind = UNDECODABLE if self._fffd_bad and _FFFD in raw else None
        record = accept(raw, self._line_no, self._source, self._bad, self.options.strict,
                        self._split_start, kind=kind)
        if record is None:
            return
        lines, _ = map_record(self._an, *record)
        for line in lines:
            yield tuple(line.split("\t", 1))

    def mapper_final(self):
        # no counter and no note here: a rerun map task's would count (print) twice
        for bad in self._bad.examples:  # a value as a posting: one per (task, line)
            yield NOTE_KEY, f"{bad.describe().replace(chr(9), ' ')}\t1\t"
        for kind, n in self._bad.counts.items():
            yield BAD_KEY, f"{kind}\t{n}\t"

    # -- combine: same shape in and out, so re-applying it (Spark does) is harmless.
    # Hadoop hands a combiner its values sorted on the whole key, mrjob's Spark harness
    # in arrival order; sorting on doc_id costs nothing on already-sorted input.
    def combiner(self, term: str, values):
        for value in combine_term(sorted(values, key=_doc_id)):
            yield term, value

    # -- reduce -----------------------------------------------------------------------
    def reducer_init(self) -> None:
        # reported even when 0, so that an empty input still reports its counters
        self._counts: dict = {"table_documents": 0, "tokens": 0}

    def reducer(self, term: str, values):
        if term == NOTE_KEY:
            for value in values:
                if self.options.notes_in_output:
                    yield NOTE_KEY, _doc_id(value)
                else:
                    self.stderr.write(f"{counters.NOTE_PREFIX}{_doc_id(value)}\n".encode())
            return
        if term == BAD_KEY:
            for value in values:
                kind, n, _ = value.split("\t")
                counters.add(self._counts, {counters.BAD_PREFIX + kind: int(n)})
            return
        line = reduce_term(term, values)
        payload = line[len(term) + 1:]
        key_counters(term, int(payload[6:payload.index(",", 6)]), self._counts)
        if term[:1] == DOC_TABLE:  # [doc_id, length] postings: the indexed tokens
            tokens = sum(p[1] for p in json.loads(payload)["postings"])
            counters.add(self._counts, {"tokens": tokens})
        yield term, payload

    def reducer_final(self):
        for name, n in self._counts.items():
            self.increment_counter(counters.GROUP, name, n)
        return iter(())


if __name__ == "__main__":
    MRInvertedIndex.run()
