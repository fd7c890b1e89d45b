"""The Hadoop-streaming command of the job, for people (and Dataproc) submitting by hand.

The same programs as the ``pipe`` runner (``mapper.py``, ``LC_ALL=C sort``,
``reducer.py``), with Hadoop doing the sort: the map output key is the first two
fields (``term<TAB>doc_id``: ``stream.num.map.output.key.fields=2``), compared as bytes,
and partitioned on the term alone (``KeyFieldBasedPartitioner`` with ``-k1,1``), so each
reducer sees a term's postings in doc_id order and writes a part sorted by term. The
scripts and ``invindex.zip`` travel with ``-files``; Hadoop's own ``_SUCCESS`` is off,
since an index's ``_SUCCESS`` must come after its manifest.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Dict, List, Sequence

from ..core import counters
from ..core.analysis import Analyzer
from .cluster import NO_HADOOP_SUCCESS

PARTITIONER = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"
KEY_FIELDS = "stream.num.map.output.key.fields=2"
PARTITION_ON_TERM = "mapreduce.partition.keypartitioner.options=-k1,1"
# Directories as INPUT are walked (Hadoop skips _ and . names, as invindex does).
RECURSIVE_INPUT = "mapreduce.input.fileinputformat.input.dir.recursive=true"
DEFAULT_JAR = "$HADOOP_HOME/share/hadoop/tools/lib/hadoop-streaming-*.jar"
DATAPROC_JAR = "file:///usr/lib/hadoop/hadoop-streaming.jar"


def mapper_args(analyzer: Analyzer, strict: bool = False) -> List[str]:
    """Flags of ``mapper.py``; a stopword file is referred to by its shipped name."""
    args = analyzer.to_args()
    if analyzer.stopwords_name not in (None, "english"):
        i = args.index("--stopwords")
        args[i + 1] = Path(analyzer.stopwords_name).name  # type: ignore[arg-type]
    return args + (["--strict"] if strict else [])


def streaming_args(inputs: Sequence[str], output: str, files: Sequence[str],
                   analyzer: Analyzer, strict: bool = False, python: str = "python3",
                   reducers: int | None = None, job_name: str = "invindex") -> List[str]:
    """Everything after ``hadoop jar hadoop-streaming.jar``: generic options first."""
    conf = [f"mapreduce.job.name={job_name}", KEY_FIELDS, PARTITION_ON_TERM,
            NO_HADOOP_SUCCESS, RECURSIVE_INPUT]
    if reducers:
        conf.append(f"mapreduce.job.reduces={int(reducers)}")
    args: List[str] = []
    for c in conf:
        args += ["-D", c]
    args += ["-files", ",".join(files), "-partitioner", PARTITIONER]
    for i in inputs:
        args += ["-input", i]
    mapper = shlex.join([*shlex.split(python), "mapper.py", *mapper_args(analyzer, strict)])
    reducer = shlex.join([*shlex.split(python), "reducer.py"])
    return args + ["-output", output, "-mapper", mapper, "-reducer", reducer]


def shipped_files(files_dir: str, analyzer: Analyzer) -> List[str]:
    """``-files`` entries: the scripts, the zip, and a stopword file when one is used."""
    base = files_dir.rstrip("/")
    names = [f"{base}/mapper.py", f"{base}/reducer.py", f"{base}/invindex.zip"]
    if analyzer.stopwords_name not in (None, "english"):
        names.append(f"{base}/{Path(analyzer.stopwords_name).name}")  # type: ignore[arg-type]
    return names


def command(inputs: Sequence[str], output: str, files_dir: str, analyzer: Analyzer,
            strict: bool = False, python: str = "python3", reducers: int | None = None,
            jar: str = DEFAULT_JAR, hadoop: str = "hadoop") -> List[str]:
    """The whole ``hadoop jar ...`` argv."""
    return [hadoop, "jar", jar, *streaming_args(
        inputs, output, shipped_files(files_dir, analyzer), analyzer, strict, python,
        reducers)]


def render(argv: Sequence[str]) -> str:
    """One argument per line after the jar, ready to paste into a shell."""
    head = shlex.join(argv[:3])
    rest = list(argv[3:])
    lines, i = [], 0
    while i < len(rest):
        if rest[i].startswith("-") and i + 1 < len(rest):
            lines.append(f"{shlex.quote(rest[i])} {shlex.quote(rest[i + 1])}")
            i += 2
        else:
            lines.append(shlex.quote(rest[i]))
            i += 1
    # a $HADOOP_HOME in the jar path is left for the shell to expand
    head = re.sub(r"'(\$HADOOP_HOME[^']*)'", r"\1", head)
    return " \\\n    ".join([head, *lines])


_COUNTER = re.compile(r"^\s+([A-Za-z_.]+)=(\d+)\s*$")


def parse_counters(text: str) -> Dict[str, int]:
    """Our counters from Hadoop's job summary (``Counters: N`` then indented groups)."""
    found: Dict[str, int] = {}
    group = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        m = _COUNTER.match(line)
        if m and group == counters.GROUP:
            counters.add(found, {m.group(1): int(m.group(2))})
        elif not m and "=" not in stripped:
            group = stripped
    return found
