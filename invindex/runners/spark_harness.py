"""The script spark-submit runs for ``--runner spark``: mrjob's Spark harness, with each
map task told where its lines come from, as Hadoop tells a streaming task.

mrjob's harness reads the input with ``SparkContext.textFile`` and never says which
file (or which part of it) a map task reads; Hadoop streaming sets
``mapreduce_map_input_file`` and ``mapreduce_map_input_start``, from which the job's
bad-record notes name their place (``invindex.core.streaming.input_location``). Here
the driver asks the JVM for the split behind each partition (file and start byte), and
each map task sets those two variables before the job's mapper starts. A note then reads
``FILE:LINE`` for a split starting the file (a whole compressed file, a plain file's
first split), else Hadoop's ``FILE (split at byte S) line K`` (K counted from the first
line that starts after byte S; for bzip2, S is an offset in the compressed file).

spark-submit runs this with the build's ``python_bin``, which may be any python3 with
pyspark: it imports the standard library, pyspark and mrjob (from the shipped
mrjob.zip), never the rest of invindex. pyspark's private attributes are read here and
nowhere else (see ``split_locations``).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Iterable, List, Tuple
from urllib.parse import urlparse

Split = Tuple[str, int]  # (file, start byte)


def local_name(uri: str) -> str:
    """A ``file:`` URI as the plain path the user gave (as other runners name it)."""
    return urlparse(uri).path if uri.startswith("file:") else uri


def split_locations(rdd: Any) -> List[Split] | None:
    """The (file, start) of each partition of an RDD from ``SparkContext.textFile``, or
    None when its JVM side is not the expected shape. pyspark has no public way to the
    JVM RDD behind a Python one, hence ``rdd._jrdd``: textFile is a map over a
    HadoopRDD, whose partitions each hold one FileSplit."""
    try:
        hadoop_rdd = rdd._jrdd.rdd().dependencies().head().rdd()
        splits = []
        for partition in hadoop_rdd.partitions():
            split = partition.inputSplit().value()
            splits.append((local_name(split.getPath().toString()), int(split.getStart())))
    except Exception as e:  # noqa: BLE001 - py4j raises its own kinds; fall back, say so
        sys.stderr.write(f"invindex: warning: bad-record notes cannot name their input file "
                         f"on this Spark ({type(e).__name__}: {e})\n")
        return None
    return splits if len(splits) == rdd.getNumPartitions() else None


def locator(splits: List[Split]) -> Callable[[int, Iterable[bytes]], Iterable[bytes]]:
    """For ``mapPartitionsWithIndex``: sets the task's input variables, eagerly (not a
    generator), so that they are set before the job's ``mapper_init`` runs (PySpark
    calls the functions of a pipelined stage from first to last)."""

    def locate(index: int, lines: Iterable[bytes]) -> Iterable[bytes]:
        path, start = splits[index]
        os.environ["mapreduce_map_input_file"] = path
        os.environ["mapreduce_map_input_start"] = str(start)
        return lines

    return locate


def main() -> None:
    import pyspark
    from mrjob.spark import harness

    class LocatingSparkContext(pyspark.SparkContext):
        def textFile(self, name: str, minPartitions: int | None = None,  # noqa: N802, N803
                     use_unicode: bool = True) -> Any:
            rdd = super().textFile(name, minPartitions, use_unicode)
            splits = split_locations(rdd)
            return rdd if splits is None else rdd.mapPartitionsWithIndex(locator(splits))

    # mrjob's harness.main() imports SparkContext from pyspark when it starts
    pyspark.SparkContext = LocatingSparkContext
    harness.main()


if __name__ == "__main__":
    main()
