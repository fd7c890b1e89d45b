"""The mrjob job's counts stay exact when a map task runs twice, without a cluster.

Spark reruns a map task that had finished when its output is lost with its executor
(``test_multihost.py`` kills the host), and applies the rerun's accumulator updates
(mrjob's counters) on top of the first run's; the shuffle keeps one copy of the map
output. Here the job's own map, combine and reduce run in-process the way mrjob's
Spark harness drives them (``map_pairs`` / ``combine_pairs`` / ``reduce_pairs``, with
``increment_counter`` replaced by one accumulator per job, as the harness does), over
three map tasks, the one holding the bad records run twice: the index lines and every
count in the manifest must equal the fast runner's, and each bad record's note must be
on stderr once (the rerun printed its notes a second time: found by trying it).
"""

from __future__ import annotations

import io
import itertools
from collections import defaultdict
from typing import Dict, List

import pytest

from tests.conftest import SAMPLE
from tests.reference import reference_lines
from tests.scale.conftest import BAD

pytest.importorskip("mrjob")


STDERR = io.BytesIO()  # every task's stderr, as a Spark driver's console shows them


def _job(accumulator: Dict[str, int]):
    from invindex.runners.mr_invindex import MRInvertedIndex

    job = MRInvertedIndex([]).sandbox(stderr=STDERR)

    def increment_counter(group: str, counter: str, amount: int = 1) -> None:
        accumulator[f"{group}:{counter}"] += amount

    job.increment_counter = increment_counter  # what mrjob's Spark harness does
    return job


def _map_task(lines: List[bytes], acc: Dict[str, int]) -> List[bytes]:
    """One map task: the mapper, then the combiner over its output grouped by key."""
    mapper, combiner = _job(acc), _job(acc)
    read, write = mapper.pick_protocols(0, "mapper")
    mapped = sorted(write(*kv) for kv in mapper.map_pairs((read(ln) for ln in lines), 0))
    c_read, c_write = combiner.pick_protocols(0, "combiner")
    return [c_write(*kv) for kv in combiner.combine_pairs(map(c_read, mapped), 0)]


def _reduce(lines: List[bytes], acc: Dict[str, int], parts: int = 2) -> List[str]:
    """The shuffle (by term, sorted) and ``parts`` reduce tasks."""
    by_part: Dict[int, List[bytes]] = defaultdict(list)
    for line in lines:
        by_part[hash(line.split(b"\t", 1)[0]) % parts].append(line)
    out: List[str] = []
    for part in by_part.values():
        reducer = _job(acc)
        read, write = reducer.pick_protocols(0, "reducer")
        out += [write(*kv).decode("utf-8")
                for kv in reducer.reduce_pairs(map(read, sorted(part)), 0)]
    return sorted(out, key=lambda s: s.encode("utf-8"))


def test_a_map_task_run_twice_counts_once(tmp_path):
    from invindex.build import build_index
    from invindex.core import counters
    from invindex.core.analysis import Analyzer
    from invindex.index.manifest import Counts

    lines = SAMPLE.read_bytes().splitlines()
    tasks = [lines[:150] + BAD.splitlines(), lines[150:300], lines[300:]]
    acc: Dict[str, int] = defaultdict(int)
    shuffled = [_map_task(t, acc) for t in tasks]
    _map_task(tasks[0], acc)  # the rerun: counters applied again, its output replaces
    index = _reduce(list(itertools.chain(*shuffled)), acc)

    corpus = tmp_path / "corpus.tsv"
    corpus.write_bytes(b"\n".join(itertools.chain(*tasks)) + b"\n")
    fast = build_index([str(corpus)], str(tmp_path / "fast"), Analyzer()).manifest["counts"]
    assert index == reference_lines(corpus.read_bytes())
    prefix = counters.GROUP + ":"
    counts = Counts.from_counters({k[len(prefix):]: n for k, n in acc.items()})
    assert counts.as_dict() == fast
    assert fast["bad_records"] == 4 and fast["tokens"] > 0


def test_a_map_task_run_twice_notes_each_bad_record_once():
    from invindex.core import counters

    lines = SAMPLE.read_bytes().splitlines()
    tasks = [lines[:150] + BAD.splitlines(), lines[150:]]
    acc: Dict[str, int] = defaultdict(int)
    STDERR.seek(0)
    STDERR.truncate()
    shuffled = [_map_task(t, acc) for t in tasks]
    _map_task(tasks[0], acc)  # the rerun
    _reduce(list(itertools.chain(*shuffled)), acc)
    notes = [ln for ln in STDERR.getvalue().decode().splitlines()
             if ln.startswith(counters.NOTE_PREFIX + "bad record at ")]
    assert len(notes) == len(BAD.splitlines()) == len(set(notes)), notes
