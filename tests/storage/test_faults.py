"""Fault injection: a proxy in front of each emulator answers 503 or drops the connection
for a share of requests; transfers through the CLI still complete, byte-identical."""

from __future__ import annotations

import os
import random
from pathlib import Path

from faultproxy import FaultProxy

from invindex.cli import main


def test_transfers_survive_503_and_dropped_connections(cloud, bucket, tmp_path: Path,
                                                       monkeypatch) -> None:
    src, back = tmp_path / "src", tmp_path / "back"
    rng = random.Random(11)
    (src / "sub").mkdir(parents=True)
    (src / "large.bin").write_bytes(os.urandom(17 << 20))  # parts / blocks / resumable chunks
    for i in range(24):
        (src / "sub" / f"f{i:02d}").write_bytes(rng.randbytes(rng.randint(1, 50_000)))
    proxy = FaultProxy(cloud.port, fail=0.25, seed=3).start()
    try:
        for name, value in cloud.env_for(proxy.port).items():
            monkeypatch.setenv(name, value)
        assert main(["-q", "stage", "cp", "-r", str(src), f"{bucket}/data"]) == 0
        assert main(["-q", "stage", "cp", "-r", f"{bucket}/data", str(back)]) == 0
    finally:
        proxy.stop()
    assert proxy.counts["503"] > 3 and proxy.counts["dropped"] > 3, proxy.counts
    files = sorted(p.relative_to(src) for p in src.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(back) for p in back.rglob("*") if p.is_file())
    for rel in files:
        assert (back / rel).read_bytes() == (src / rel).read_bytes(), rel
