"""Dataproc handlers: the autoscaling policy and the cluster (whose files in the shared
staging and temp buckets go with it at `down`)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ..storage import StorageError
from .deps import need
from .engine import wait_for
from .gcp_buckets import empty_cluster_files
from .gcp_calls import TIMEOUT, found_ours, get_or_none
from .gcp_steps import policy_id
from .plan import Fields, Step, diff_fields
from .spec import TAG_CLUSTER


class DataprocPolicies:
    """Autoscaling policies: found by the id derived from the cluster name, then labels."""

    def __init__(self, gcp: Any) -> None:  # a gcp.Gcp
        self.gcp, self.client = gcp, gcp.dataproc("AutoscalingPolicyServiceClient")
        self.parent = f"projects/{gcp.project}/regions/{gcp.region}"

    def _get(self, full: str) -> Any:
        return get_or_none(lambda: self.client.get_autoscaling_policy(name=full))

    def find(self, step: Step, params: Dict) -> str | None:
        full = f"{self.parent}/autoscalingPolicies/{step.name}"
        ours = found_ours(self._get(full), self.gcp.labelled, "Dataproc autoscaling policy",
                          step.name)
        return full if ours else None

    def create(self, step: Step, params: Dict) -> str:
        dataproc = need("google.cloud.dataproc_v1", "Dataproc provisioning")
        made = self.client.create_autoscaling_policy(
            parent=self.parent, policy=dataproc.AutoscalingPolicy(params))
        return made.name or f"{self.parent}/autoscalingPolicies/{step.name}"

    def delete(self, rid: str) -> None:
        self.client.delete_autoscaling_policy(name=rid)

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Every field of a policy changes in place (UpdateAutoscalingPolicy)."""
        dataproc = need("google.cloud.dataproc_v1", "Dataproc provisioning")
        found = self._get(rid)
        have = type(found).to_dict(found, preserving_proto_field_name=True) if found else {}
        want = type(found).to_dict(dataproc.AutoscalingPolicy(params),
                                   preserving_proto_field_name=True) if found else params
        return diff_fields({k: v for k, v in want.items() if k not in ("labels", "name")},
                           have), {}

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        dataproc = need("google.cloud.dataproc_v1", "Dataproc provisioning")
        self.client.update_autoscaling_policy(policy=dataproc.AutoscalingPolicy(
            dict(params, name=rid)))
        return rid

    def find_all(self) -> List[str]:
        full = f"{self.parent}/autoscalingPolicies/{policy_id(self.gcp.cluster)}"
        found = self._get(full)
        return [full] if found is not None and self.gcp.owns(found.labels) else []

    def describe(self, rid: str) -> str:
        p = self._get(rid)
        if p is None:
            return f"{rid} (gone)"
        return (f"{rid.rsplit('/', 1)[-1]}: secondary workers "
                f"{p.secondary_worker_config.min_instances}.."
                f"{p.secondary_worker_config.max_instances}")


class DataprocClusters:
    def __init__(self, gcp: Any) -> None:  # a gcp.Gcp
        self.gcp, self.client = gcp, gcp.dataproc("ClusterControllerClient")

    def _get(self, name: str) -> Any:
        return get_or_none(lambda: self.client.get_cluster(
            project_id=self.gcp.project, region=self.gcp.region, cluster_name=name))

    def find(self, step: Step, params: Dict) -> str | None:
        found = self._get(step.name)
        if not found_ours(found, self.gcp.labelled, "Dataproc cluster", step.name):
            return None
        if found.status.state.name == "DELETING":
            wait_for(lambda: self._get(step.name) is None, f"cluster {step.name} to go")
            return None
        return step.name

    def create(self, step: Step, params: Dict) -> str:
        dataproc = need("google.cloud.dataproc_v1", "Dataproc provisioning")
        self.client.create_cluster(project_id=self.gcp.project, region=self.gcp.region,
                                   cluster=dataproc.Cluster(params)).result(timeout=TIMEOUT)
        return step.name

    def delete(self, rid: str) -> str | None:
        """Delete the cluster, then its files in the (shared) staging and temp buckets
        (what could not go is said, not fatal: the cluster itself is gone)."""
        found = self._get(rid)
        self.client.delete_cluster(project_id=self.gcp.project, region=self.gcp.region,
                                   cluster_name=rid).result(timeout=TIMEOUT)
        if found is None:
            return None
        cfg = found.config
        try:
            empty_cluster_files(self.gcp.project, cfg.config_bucket, cfg.temp_bucket,
                                found.cluster_uuid)
        except StorageError as e:
            return (f"left cluster {rid}'s files (uuid {found.cluster_uuid}) in gs://"
                    f"{cfg.config_bucket} and gs://{cfg.temp_bucket}: {e}")
        return None

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """The autoscaling policy it uses changes in place (none: autoscaling stops); the
        image, machine types, primary workers (HDFS), subnet and internal-IP setting only
        with a new cluster; the secondary workers are the autoscaling policy's."""
        c = self._get(rid)
        cfg, want = (c.config if c is not None else None), params["config"]
        if cfg is None:
            return {}, {}
        update = diff_fields({"autoscaling_policy": _policy_of(want)},
                             {"autoscaling_policy": cfg.autoscaling_config.policy_uri.rsplit(
                                 "/", 1)[-1]})
        gce = want["gce_cluster_config"]
        replace = diff_fields(
            {"internal_ip_only": gce["internal_ip_only"],
             "subnetwork": gce["subnetwork_uri"].rsplit("/", 1)[-1]},
            {"internal_ip_only": cfg.gce_cluster_config.internal_ip_only,
             "subnetwork": cfg.gce_cluster_config.subnetwork_uri.rsplit("/", 1)[-1]})
        have = {"image_version": cfg.software_config.image_version,
                "master_type": cfg.master_config.machine_type_uri.rsplit("/", 1)[-1],
                "worker_type": cfg.worker_config.machine_type_uri.rsplit("/", 1)[-1],
                "workers": cfg.worker_config.num_instances}
        wanted = {"image_version": want["software_config"]["image_version"],
                  "master_type": want["master_config"]["machine_type_uri"],
                  "worker_type": want["worker_config"]["machine_type_uri"],
                  "workers": want["worker_config"]["num_instances"]}
        replace.update(diff_fields(wanted, have))
        return update, replace

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        """UpdateCluster of the autoscaling policy alone (an empty one: no autoscaling)."""
        dataproc = need("google.cloud.dataproc_v1", "Dataproc provisioning")
        mask = need("google.protobuf.field_mask_pb2", "Dataproc provisioning")
        policy = params["config"].get("autoscaling_config", {}).get("policy_uri", "")
        self.client.update_cluster(
            project_id=self.gcp.project, region=self.gcp.region, cluster_name=rid,
            cluster=dataproc.Cluster(config={"autoscaling_config": {"policy_uri": policy}}),
            update_mask=mask.FieldMask(paths=["config.autoscaling_config.policy_uri"]),
        ).result(timeout=TIMEOUT)
        return rid

    def find_all(self) -> List[str]:
        found = self.client.list_clusters(request={
            "project_id": self.gcp.project, "region": self.gcp.region,
            "filter": f"labels.{TAG_CLUSTER} = {self.gcp.cluster}"})
        return [c.cluster_name for c in found if self.gcp.owns(c.labels)]

    def describe(self, rid: str) -> str:
        c = self._get(rid)
        if c is None:
            return f"{rid} (gone)"
        cfg = c.config
        return (f"{rid} {c.status.state.name} workers {cfg.worker_config.num_instances} + "
                f"secondary {cfg.secondary_worker_config.num_instances}")


def _policy_of(config: Dict[str, Any]) -> str:
    """The id of the autoscaling policy a cluster config names ("" for none)."""
    return config.get("autoscaling_config", {}).get("policy_uri", "").rsplit("/", 1)[-1]
