"""EMR managed scaling for the in-process moto server, which does not implement it.

moto 5.2 answers GetManagedScalingPolicy, PutManagedScalingPolicy and
RemoveManagedScalingPolicy with "not implemented". These three handlers, added to moto's
EMR responses for a test's duration, keep the policy on moto's cluster object as EMR keeps
it on the cluster: enough to check that `up` puts, compares and removes it and that `down`
sees it; nothing here scales anything (neither does moto for automatic scaling rules). As
EMR does, a cluster cannot have both managed scaling and an instance group's automatic
scaling policy: putting one while the other is there is refused.
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
        found = cluster(self)
        if any(g.auto_scaling_policy for g in self.backend.instance_groups.values()
               if g.cluster_id == found.id):
            return _refused("an instance group has an automatic scaling policy")
        setattr(found, _ATTR, self._get_param("ManagedScalingPolicy"))
        return EmptyResult()

    original = ElasticMapReduceResponse.put_auto_scaling_policy

    def put_rules(self: Any) -> Any:
        if getattr(cluster(self), _ATTR, None):
            return _refused("the cluster has a managed scaling policy")
        return original(self)

    def remove(self: Any) -> Any:
        setattr(cluster(self), _ATTR, None)
        return EmptyResult()

    def _refused(why: str) -> Any:
        from moto.emr.exceptions import ValidationException

        raise ValidationException(f"managed scaling and automatic scaling rules cannot be "
                                  f"used together: {why}")

    mp.setattr(ElasticMapReduceResponse, "put_auto_scaling_policy", put_rules)
    for name, handler in (("get_managed_scaling_policy", get),
                          ("put_managed_scaling_policy", put),
                          ("remove_managed_scaling_policy", remove)):
        mp.setattr(ElasticMapReduceResponse, name, handler, raising=False)
