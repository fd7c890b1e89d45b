"""Sizing from the corpus: how many nodes, how many ``--parts``, how long and how many
instance-hours a build will take on a cluster spec, from the inputs' total size and a
per-node throughput.

The throughput is the streaming scripts' (``mapper.py | sort | reducer.py``, what EMR,
Hadoop and Dataproc run): ``--runner pipe`` in the README's Performance table did 2.80 MB/s
on real text with 2 jobs on 2 cores (50 MB in 17.86 s, idle), so ``STREAMING_MB_PER_VCPU``
= 1.4 MB/s per vCPU, from wall time rather than CPU time (2.4 MB/s a CPU-second) to leave
room for Hadoop's own sort and shuffle (overridable per node with ``--rate``). A node's
vCPUs come from its type (``VCPUS``, or the size in the name); the model is linear (no
start-up, no skew): a floor, not a promise. Compressed inputs are counted at
``COMPRESSION_FACTOR`` times their size.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, List, Tuple

from ..errors import UsageError
from ..inputs import expand_inputs
from ..storage import ObjectNotFound, is_remote, locate

STREAMING_MB_PER_VCPU = 1.4
COMPRESSION_FACTOR = 4
VCPUS = {"t3.micro": 2, "t3.small": 2, "t3.medium": 2, "t3.large": 2, "m5.large": 2,
         "e2-medium": 2, "Standard_B2s": 2}
_AWS_SIZE = re.compile(r"\.(\d*)xlarge$")
_GCP_SIZE = re.compile(r"-(?:standard|highmem|highcpu)-(\d+)$")


def vcpus(machine_type: str) -> int:
    """vCPUs of an instance / machine type: known ones, or read from the size in the name
    (AWS ``N``xlarge = 4N, GCP ``-standard-N`` = N)."""
    if machine_type in VCPUS:
        return VCPUS[machine_type]
    m = _AWS_SIZE.search(machine_type)
    if m:
        return 4 * int(m.group(1) or 1)
    m = _GCP_SIZE.search(machine_type)
    if m:
        return int(m.group(1))
    raise UsageError(f"cannot tell the vCPUs of {machine_type}: give --rate MB/s per node")


@dataclass(frozen=True)
class Cluster:
    """What sizing needs of a spec: the node type, the nodes that are always there (EMR
    core, Dataproc primary workers), the scaled range, and a master billed on the side."""

    node_type: str
    fixed: int
    min: int
    max: int
    overhead: int


def cluster_of(spec: Any) -> Cluster:
    sc = spec.sections.get("scaling")
    if spec.shape == "emr":
        return Cluster(spec.emr["task_type"], spec.emr["core_count"], sc["min"], sc["max"], 1)
    if spec.shape == "dataproc":
        d = spec.dataproc
        return Cluster(d["worker_type"], d["workers"], sc["min"], sc["max"], 1)
    if spec.shape == "fleet":
        return Cluster(spec.machine["type"], 0, max(sc["min"], 1), sc["max"], 0)
    raise UsageError(f"shape {spec.shape} runs no build to size (use emr, dataproc or fleet)")


def node_rate(cluster: Cluster, rate_mb: float | None = None) -> float:
    """Bytes per second one node indexes."""
    if rate_mb is not None:
        if rate_mb <= 0:
            raise UsageError("--rate must be positive (MB/s per node)")
        return rate_mb * 1e6
    return vcpus(cluster.node_type) * STREAMING_MB_PER_VCPU * 1e6


def input_size(uris: Iterable[str]) -> Tuple[int, int, int]:
    """(bytes to index, files, of which compressed) of local paths or cloud URIs (an
    object, or every object under a prefix); names starting with '.' or '_' are skipped,
    as the build skips them."""
    total = files = packed = 0
    for uri in uris:
        sizes = _remote_sizes(uri) if is_remote(uri) else [
            (str(p), p.stat().st_size) for p in expand_inputs([uri])]
        sizes = [(name, size) for name, size in sizes
                 if not Path(name).name.startswith((".", "_"))]
        if not sizes:
            raise UsageError(f"input {uri} holds no files")
        for name, size in sizes:
            compressed = name.endswith((".gz", ".bz2"))
            total += size * (COMPRESSION_FACTOR if compressed else 1)
            files += 1
            packed += compressed
    return total, files, packed


def _remote_sizes(uri: str) -> List[Tuple[str, int]]:
    store, key = locate(uri)
    if key and not key.endswith("/"):
        try:
            info = store.info(key)
            return [(info.key, info.size)]
        except ObjectNotFound:
            key += "/"
    return [(i.key, i.size) for i in store.list(key) if not i.is_dir]


@dataclass(frozen=True)
class Option:
    scaled: int          # task nodes / secondary workers / fleet instances
    nodes: int           # working nodes in all
    parts: int
    seconds: float
    instance_hours: float


def option(cluster: Cluster, scaled: int, size: float, rate: float) -> Option:
    nodes = cluster.fixed + scaled
    seconds = size / (nodes * rate) if nodes else math.inf
    parts = max(1, nodes * vcpus_or(cluster.node_type, 1))
    return Option(scaled, nodes, parts, seconds, (nodes + cluster.overhead) * seconds / 3600)


def vcpus_or(machine_type: str, default: int) -> int:
    try:
        return vcpus(machine_type)
    except UsageError:
        return default


def propose_best(cluster: Cluster, size: float, rate: float, within_s: float) -> Option:
    """The smallest cluster in the spec's range that finishes within ``within_s`` (the
    largest when none does)."""
    need = math.ceil(size / (rate * within_s)) - cluster.fixed
    return option(cluster, min(max(need, cluster.min), cluster.max), size, rate)


def propose(cluster: Cluster, size: float, rate: float, within_s: float) -> List[Option]:
    """The spec's smallest cluster, the proposed one, the largest: in that order, without
    repeats (and without a cluster of no node)."""
    found: List[Option] = []
    for o in (option(cluster, cluster.min, size, rate),
              propose_best(cluster, size, rate, within_s),
              option(cluster, cluster.max, size, rate)):
        if o.nodes and o not in found:
            found.append(o)
    return found


def report(spec: Any, size: int, files: int, packed: int, rate: float,
           options: List[Option], best: Option) -> str:
    from .simulate import clock

    c = cluster_of(spec)
    lines = [f"{spec.name}: {files} input file(s), {size / 1e6:,.1f} MB to index"
             + (f" ({packed} compressed, counted x{COMPRESSION_FACTOR})" if packed else ""),
             f"throughput: {rate / 1e6:.2f} MB/s per {c.node_type} node (streaming scripts; "
             "--rate MB/s to override)",
             f"{'scaled':>6} {'nodes':>6} {'--parts':>8} {'time':>9} {'instance-h':>11}"]
    for o in options:
        mark = "  <- proposed" if o == best else ""
        lines.append(f"{o.scaled:>6} {o.nodes:>6} {o.parts:>8} {clock(round(o.seconds)):>9} "
                     f"{o.instance_hours:>11.2f}{mark}")
    lines.append(f"proposed: scaling.desired = {best.scaled}, --parts {best.parts}: about "
                 f"{clock(round(best.seconds))} and {best.instance_hours:.2f} instance-hours "
                 f"(working nodes{' + master' if c.overhead else ''})")
    return "\n".join(lines)
