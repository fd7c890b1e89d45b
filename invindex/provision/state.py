"""A local note of where each cluster lives, so ``status NAME`` / ``down NAME`` need no spec.

It is only a convenience: nothing is found through it but the provider and location;
the resources themselves are always found by tag, so losing this file loses nothing
(``down SPEC`` works without it). It holds no credentials.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict


def state_dir() -> Path:
    if os.environ.get("INVINDEX_STATE_DIR"):
        return Path(os.environ["INVINDEX_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "invindex" / "clusters"


def save(name: str, record: Dict[str, Any]) -> None:
    path = state_dir() / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def load(name: str) -> Dict[str, Any] | None:
    try:
        return json.loads((state_dir() / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None


def forget(name: str) -> None:
    (state_dir() / f"{name}.json").unlink(missing_ok=True)


def region_of(kind: str, rid: str) -> str | None:
    """The region recorded for the resource ``rid`` of ``kind`` (say an EMR cluster id
    given to `build --cluster-id`), from the records `up` keeps; None if no record has it."""
    for path in sorted(state_dir().glob("*.json")):
        record = load(path.stem)
        if record and (record.get("ids") or {}).get(kind) == rid:
            return (record.get("location") or {}).get("region") or None
    return None


def emr_region(cluster_id: str) -> str | None:
    """Where EMR cluster ``cluster_id`` runs: its record (from `cluster up`), else boto3's
    default chain (AWS_REGION, AWS_DEFAULT_REGION, the profile); mrjob's own default,
    us-west-2, would look for it in the wrong region."""
    found = region_of("emr_cluster", cluster_id)
    if found:
        return found
    try:
        import boto3
    except ImportError:
        return None
    return boto3.session.Session().region_name
