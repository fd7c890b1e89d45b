"""Not collected by the suite: ``test_spark_daemons.py`` runs it in a pytest of its own,
which it then SIGKILLs. Each test brings up one kind of Spark daemon the tests start
(the session's standalone master + worker; a master on a network-namespace host),
writes ``$INVINDEX_HOLD_READY`` and waits to be killed."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _hold() -> None:
    Path(os.environ["INVINDEX_HOLD_READY"]).write_text("ready")
    time.sleep(600)


def test_hold_standalone(spark_standalone):
    _hold()


def test_hold_netns_master(netns_hosts, spark_home, tmp_path):
    from tests.scale import _netns

    spark = _netns.SparkHosts(netns_hosts, spark_home, tmp_path / "spark")
    spark.start_master()
    spark.wait_for(r"Starting Spark master", 1)
    _hold()
