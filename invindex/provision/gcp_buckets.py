"""What a Dataproc cluster leaves in its buckets, deleted at `down`.

Dataproc keeps each cluster's files in the staging and temp buckets it chose (one pair per
project and region, shared by every cluster there: the buckets are never deleted with a
cluster, and neither are the files). Only this cluster's prefixes go: its metadata and
job driver output under ``google-cloud-dataproc-metainfo/UUID/`` in the staging bucket,
its history and scratch files under ``UUID/`` in the temp bucket. Through the storage
layer (google-cloud-storage, the same default credentials)."""

from __future__ import annotations

from typing import List, Tuple

from ..storage import BucketNotFound, get_store


def cluster_prefixes(staging: str, temp: str, uuid: str) -> List[Tuple[str, str]]:
    """(bucket, prefix) of the cluster's files; none without a UUID (nothing to match)."""
    if not uuid:
        return []
    found = [(staging, f"google-cloud-dataproc-metainfo/{uuid}/"), (temp, f"{uuid}/")]
    return [(bucket, prefix) for bucket, prefix in found if bucket]


def empty_cluster_files(project: str, staging: str, temp: str, uuid: str) -> int:
    """Delete the cluster's objects from its staging and temp buckets; how many went."""
    gone = 0
    for bucket, prefix in cluster_prefixes(staging, temp, uuid):
        store = get_store(f"gs://{bucket.removeprefix('gs://')}/", project=project)
        try:
            keys = [info.key for info in store.list(prefix)]
        except BucketNotFound:
            continue
        for key in keys:
            store.delete(key)
            gone += 1
    return gone
