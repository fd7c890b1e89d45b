"""``partition_of`` against Hadoop's own ``KeyFieldBasedPartitioner``, run in a JVM.

The fast and Spark runners write the part a term lands in by ``indexfmt.partition_of``
and readers open only that part, so it must agree with the class a Hadoop streaming job
is given (``hadoop_command.PARTITIONER`` with ``-k1,1``) for every term, non-ASCII ones
(negative bytes in Java's hash) included. The class comes from pyspark's
``hadoop-client-api`` jar; a few lines of Java are compiled with ``javac`` here and
instantiated the way Hadoop does it (``ReflectionUtils.newInstance`` with a ``JobConf``).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

from invindex.core.indexfmt import partition_of
from invindex.runners.hadoop_command import PARTITION_ON_TERM, PARTITIONER

from .conftest import SAMPLE

pytestmark = pytest.mark.spark

PARTS = (3, 7, 13)
JVM_OPTS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")

# Reads `term<TAB>doc_id` keys (UTF-8 lines) on stdin and prints, per key, the part the
# partitioner gives it for each number of parts on the command line.
JAVA = """
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapred.JobConf;
import org.apache.hadoop.mapred.Partitioner;
import org.apache.hadoop.util.ReflectionUtils;

public class Partition {
    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        JobConf conf = new JobConf(false);
        String[] kv = args[1].split("=", 2);
        conf.set(kv[0], kv[1]);
        Partitioner<Text, Text> p = (Partitioner<Text, Text>)
            ReflectionUtils.newInstance(conf.getClassByName(args[0]), conf);
        BufferedReader in = new BufferedReader(
            new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        Text value = new Text("1\\t0");
        for (String line; (line = in.readLine()) != null; ) {
            Text key = new Text(line);
            for (int i = 2; i < args.length; i++) {
                out.append(p.getPartition(key, value, Integer.parseInt(args[i])));
                out.append(i + 1 < args.length ? " " : "\\n");
            }
        }
        System.out.print(out);
    }
}
"""

# Beyond the sample's words: multi-byte UTF-8 of every length, long terms (the hash
# wraps many times), single characters at the byte-value edges.
EXTRA_TERMS = ["é", "ß", "ı", "σίσυφοσ", "東京", "ид", "🙂", "ǆ", "\u00ff", "\u0100",
               "\u07ff", "\u0800", "\uffff", "\U00010000", "\U0010ffff", "z", "0", "9",
               "a" * 40, "é" * 25, "naïve" * 7, "x1", "ℵ0", "ｆｕｌｌ"]


def sample_terms() -> List[str]:
    words = set(EXTRA_TERMS)
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        words.update(re.findall(r"[^\W_]+", line.partition("\t")[2].lower()))
    return sorted(words)


@pytest.fixture(scope="module")
def hadoop_partitions(tmp_path_factory) -> Dict[str, List[int]]:
    """term -> [Hadoop's part at 3, 7, 13 parts] for the sample terms."""
    spec = importlib.util.find_spec("pyspark")
    jars = Path(spec.origin).parent / "jars" if spec and spec.origin else None
    if not jars or not list(jars.glob("hadoop-client-api-*.jar")):
        pytest.skip("pyspark with its Hadoop jars is not installed")
    if not (shutil.which("javac") and shutil.which("java")):
        pytest.skip("no Java (javac and java) on this machine")
    d = tmp_path_factory.mktemp("kfp")
    (d / "Partition.java").write_text(JAVA)
    # compiled against the Hadoop API jar alone (javac reads every jar it is given), run
    # with all of pyspark's; C1 only and the serial collector: a third of the CPU
    api = str(next(jars.glob("hadoop-client-api-*.jar")))
    subprocess.run(["javac", *(f"-J{o}" for o in JVM_OPTS), "-nowarn", "-cp", api, "-d",
                    str(d), str(d / "Partition.java")], check=True, capture_output=True)
    terms = sample_terms()
    keys = "".join(f"{t}\tdoc\n" for t in terms).encode("utf-8")  # the streaming key
    res = subprocess.run(["java", *JVM_OPTS, "-cp", f"{d}:{jars}/*", "Partition",
                          PARTITIONER, PARTITION_ON_TERM, *map(str, PARTS)],
                         input=keys, capture_output=True, check=True)
    rows = res.stdout.decode().splitlines()
    assert len(rows) == len(terms), res.stderr.decode()[-2000:]
    return {t: [int(x) for x in row.split()] for t, row in zip(terms, rows, strict=True)}


def test_sample_has_non_ascii_terms():
    terms = sample_terms()
    assert len(terms) > 1000 and sum(not t.isascii() for t in terms) > 40


@pytest.mark.parametrize("index, parts", list(enumerate(PARTS)))
def test_partition_of_matches_hadoop(hadoop_partitions, index, parts):
    wrong = {t: (partition_of(t, parts), got[index]) for t, got in hadoop_partitions.items()
             if partition_of(t, parts) != got[index]}
    assert not wrong, f"{len(wrong)} terms in another part than Hadoop's: " \
                      f"{dict(list(wrong.items())[:5])}"
    # the sample spreads over every part, so a constant answer could not pass
    assert {got[index] for got in hadoop_partitions.values()} == set(range(parts))
