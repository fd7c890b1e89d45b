"""EMR managed scaling for the in-process moto server, which does not implement it.

moto 5.2 answers GetManagedScalingPolicy, PutManagedScalingPolicy and
RemoveManagedScalingPolicy with "not implemented". These three handlers, added to moto's
EMR responses for a test's duration, keep the policy on moto's cluster object as EMR keeps
it on the cluster: enough to check that `up` puts, compares and removes it and that `down`
sees it; nothing here scales anything (neither does moto for automatic scaling rules).
"""

from __future__ import annotations

from typing import Any

import pytest

_ATTR = "_invindex_managed_scaling"


def add_managed_scaling(mp: pytest.MonkeyPatch) -> None:
    from moto.core.responses import ActionResult, EmptyResult
    from moto.emr.responses import ElasticMapReduceResponse

    def cluster(self: Any) -> Any:
        return self.backend.describe_cluster(self._get_param("ClusterId"))

    def get(self: Any) -> Any:
        policy = getattr(cluster(self), _ATTR, None)
        return ActionResult({"ManagedScalingPolicy": policy} if policy else {})

    def put(self: Any) -> Any:
        setattr(cluster(self), _ATTR, self._get_param("ManagedScalingPolicy"))
        return EmptyResult()

    def remove(self: Any) -> Any:
        setattr(cluster(self), _ATTR, None)
        return EmptyResult()

    for name, handler in (("get_managed_scaling_policy", get),
                          ("put_managed_scaling_policy", put),
                          ("remove_managed_scaling_policy", remove)):
        mp.setattr(ElasticMapReduceResponse, name, handler, raising=False)
