"""GCP side effects: clients (REST transport, google.auth's default credentials), one
handler per resource kind, and the plan/backend entry points."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple
from urllib.parse import quote

from ..errors import InvindexError
from ..storage import StorageError
from .deps import need
from .engine import Backend, wait_for
from .gcp_buckets import empty_cluster_files
from .gcp_calls import found_ours, get_or_none
from .gcp_sql import SqlDatabases, SqlInstances, SqlUsers, cloudsql_steps, database_user
from .gcp_steps import dataproc_steps, firewall_marker, gce_steps, policy_id
from .plan import Fields, Plan, Step, diff_fields
from .spec import MANAGED_BY, TAG_CLUSTER, TAG_MANAGED, Spec

TIMEOUT = 1800


def default_credentials() -> Tuple[Any, str]:
    """google.auth's default chain (gcloud ADC, workload identity, metadata server)."""
    auth = need("google.auth", "GCP provisioning")
    try:
        return auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    except Exception as e:  # DefaultCredentialsError: say what to do
        raise InvindexError(f"no Google credentials ({type(e).__name__}): run `gcloud auth "
                            "application-default login` or use a workload identity; "
                            "invindex never stores keys") from None


class Gcp:
    def __init__(self, cluster: str, location: Dict[str, str], credentials: Any = None) -> None:
        need("google.cloud.compute_v1", "GCP provisioning")
        self.cluster = cluster
        project = location.get("project", "")
        if credentials is None:
            credentials, found = default_credentials()
            project = project or found or ""
        if not project:
            raise InvindexError("no GCP project: set gcp.project in the spec")
        self.project, self.region, self.zone = project, location["region"], location["zone"]
        self.endpoint = location.get("endpoint", "")
        self.shape = location.get("shape", "")
        self.credentials = credentials

    @property
    def location(self) -> Dict[str, str]:
        return {"provider": "gcp", "shape": self.shape, "project": self.project,
                "region": self.region, "zone": self.zone, "endpoint": self.endpoint}

    def compute(self, name: str) -> Any:
        module = need("google.cloud.compute_v1", "GCP provisioning")
        opts = {"api_endpoint": self.endpoint} if self.endpoint else None
        return getattr(module, name)(credentials=self.credentials, transport="rest",
                                     client_options=opts)

    def dataproc(self, name: str) -> Any:
        module = need("google.cloud.dataproc_v1", "Dataproc provisioning")
        # Dataproc wants the regional endpoint for anything but the global region
        endpoint = self.endpoint or f"{self.region}-dataproc.googleapis.com"
        return getattr(module, name)(credentials=self.credentials, transport="rest",
                                     client_options={"api_endpoint": endpoint})

    def owns(self, found_labels: Any) -> bool:
        found = dict(found_labels or {})
        return found.get(TAG_CLUSTER) == self.cluster and found.get(TAG_MANAGED) == MANAGED_BY

    def labelled(self, found: Any) -> bool:
        """A compute or Dataproc resource carries this cluster's labels."""
        return self.owns(found.labels)


class GceInstances:
    def __init__(self, gcp: Gcp) -> None:
        self.gcp, self.client = gcp, gcp.compute("InstancesClient")

    def _get(self, name: str) -> Any:
        return get_or_none(lambda: self.client.get(project=self.gcp.project,
                                                   zone=self.gcp.zone, instance=name))

    def find(self, step: Step, params: Dict) -> str | None:
        ours = found_ours(self._get(step.name), self.gcp.labelled, "GCE instance", step.name)
        return step.name if ours else None

    def create(self, step: Step, params: Dict) -> str:
        compute = need("google.cloud.compute_v1", "GCP provisioning")
        self.client.insert(project=self.gcp.project, zone=self.gcp.zone,
                           instance_resource=compute.Instance(params)).result(timeout=TIMEOUT)
        return step.name

    def delete(self, rid: str) -> None:
        self.client.delete(project=self.gcp.project, zone=self.gcp.zone,
                           instance=rid).result(timeout=TIMEOUT)

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Machine type, boot image, subnet, external IP and service account are set at
        creation here: a change needs a new VM (so an external IP the spec drops is never
        kept silently)."""
        i = self._get(rid)
        if i is None:  # gone since `find`: nothing to compare
            return {}, {}
        boot = next((d for d in i.disks if d.boot), None)
        nic = i.network_interfaces[0] if i.network_interfaces else None
        want_nic = params["network_interfaces"][0]
        have = {"machine_type": i.machine_type.rsplit("/", 1)[-1],
                "subnetwork": (nic.subnetwork if nic else "").rsplit("/", 1)[-1],
                "external_ip": bool(nic and nic.access_configs),
                "service_account": [a.email for a in i.service_accounts]}
        want = {"machine_type": params["machine_type"].rsplit("/", 1)[-1],
                "subnetwork": want_nic["subnetwork"].rsplit("/", 1)[-1],
                "external_ip": bool(want_nic.get("access_configs")),
                "service_account": [a["email"] for a in params.get("service_accounts", [])]}
        replace = diff_fields(want, have)
        if boot is not None and boot.initialize_params.source_image:  # absent on real reads
            replace.update(diff_fields(
                {"source_image": params["disks"][0]["initialize_params"]["source_image"]},
                {"source_image": boot.initialize_params.source_image}))
        return {}, replace

    def find_all(self) -> List[str]:
        found = self.client.list(request={"project": self.gcp.project, "zone": self.gcp.zone,
                                          "filter": f"labels.{TAG_CLUSTER} = {self.gcp.cluster}"})
        return [i.name for i in found if self.gcp.owns(i.labels)]

    def describe(self, rid: str) -> str:
        i = self._get(rid)
        if i is None:
            return f"{rid} (gone)"
        nic = i.network_interfaces[0] if i.network_interfaces else None
        ips = [nic.network_i_p] if nic else []
        ips += [a.nat_i_p for a in (nic.access_configs if nic else []) if a.nat_i_p]
        return f"{rid} {i.status} {i.machine_type.rsplit('/', 1)[-1]} {' '.join(ips)}".rstrip()


class _Marked:
    """Compute resources without labels (firewall rules, networks, subnetworks): ours carry
    the cluster's marker in their description. ``field`` is the request's resource argument
    (firewall, network, subnetwork); subnetworks are regional."""

    client_name, field, regional, kind = "", "", False, ""

    def __init__(self, gcp: Gcp) -> None:
        self.gcp, self.client = gcp, gcp.compute(self.client_name)

    def _where(self) -> Dict[str, str]:
        where = {"project": self.gcp.project}
        if self.regional:
            where["region"] = self.gcp.region
        return where

    def _get(self, name: str) -> Any:
        return get_or_none(lambda: self.client.get(**self._where(), **{self.field: name}))

    def find(self, step: Step, params: Dict) -> str | None:
        marker = firewall_marker(self.gcp.cluster)
        ours = found_ours(self._get(step.name), lambda f: f.description == marker,
                          self.kind, step.name)
        return step.name if ours else None

    def create(self, step: Step, params: Dict) -> str:
        compute = need("google.cloud.compute_v1", "GCP provisioning")
        resource = getattr(compute, type(self).resource)(params)
        self.client.insert(**self._where(), **{f"{self.field}_resource": resource}).result(
            timeout=TIMEOUT)
        return step.name

    def delete(self, rid: str) -> None:
        self.client.delete(**self._where(), **{self.field: rid}).result(timeout=TIMEOUT)

    def find_all(self) -> List[str]:
        marker = firewall_marker(self.gcp.cluster)
        return [f.name for f in self.client.list(**self._where()) if f.description == marker]

    def describe(self, rid: str) -> str:
        return rid


class GceFirewalls(_Marked):
    client_name, field, resource, kind = "FirewallsClient", "firewall", "Firewall", \
        "firewall rule"

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """What a rule lets in (protocols and ports, source ranges, target tags, priority)
        changes in place; its network and direction need a new rule."""
        f = self._get(rid)
        if f is None:  # gone since `find`: nothing to compare
            return {}, {}
        have = {"allowed": [{"I_p_protocol": a.I_p_protocol, "ports": list(a.ports)}
                            for a in f.allowed],
                "source_ranges": list(f.source_ranges), "target_tags": list(f.target_tags),
                "priority": f.priority}
        want = {k: params[k] for k in have if k in params}
        replace = diff_fields({"direction": params["direction"]}, {"direction": f.direction})
        if f.network.rsplit("/", 1)[-1] != params["network"].rsplit("/", 1)[-1]:
            replace["network"] = (f.network, params["network"])
        return diff_fields(want, have), replace

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        """A PATCH with the whole rule (JSON merge patch: its lists are replaced)."""
        compute = need("google.cloud.compute_v1", "GCP provisioning")
        self.client.patch(project=self.gcp.project, firewall=rid,
                          firewall_resource=compute.Firewall(params)).result(timeout=TIMEOUT)
        return rid

    def describe(self, rid: str) -> str:
        f = self.client.get(project=self.gcp.project, firewall=rid)
        allowed = ", ".join(f"{a.I_p_protocol}/{','.join(a.ports) or 'all'}" for a in f.allowed)
        return f"{rid} allows {allowed} from {', '.join(f.source_ranges)}"


class GceNetworks(_Marked):
    client_name, field, resource, kind = "NetworksClient", "network", "Network", "VPC network"

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """The routing mode changes in place (a PATCH); custom mode only with a new one."""
        n = self._get(rid)
        if n is None:
            return {}, {}
        update = diff_fields({"routing_mode": params["routing_config"]["routing_mode"]},
                             {"routing_mode": n.routing_config.routing_mode})
        return update, diff_fields(
            {"auto_create_subnetworks": params["auto_create_subnetworks"]},
            {"auto_create_subnetworks": n.auto_create_subnetworks})

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        compute = need("google.cloud.compute_v1", "GCP provisioning")
        self.client.patch(project=self.gcp.project, network=rid, network_resource=compute.Network(
            routing_config=params["routing_config"])).result(timeout=TIMEOUT)
        return rid


class GceSubnetworks(_Marked):
    client_name, field, resource, kind = "SubnetworksClient", "subnetwork", "Subnetwork", \
        "subnetwork"
    regional = True

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Private Google Access changes in place; the range and network need a new subnet
        (a range can only grow in place, and a VM keeps its address: refused, not guessed)."""
        sub = self._get(rid)
        if sub is None:
            return {}, {}
        update = diff_fields({"private_ip_google_access": params["private_ip_google_access"]},
                             {"private_ip_google_access": sub.private_ip_google_access})
        return update, diff_fields(
            {"ip_cidr_range": params["ip_cidr_range"],
             "network": params["network"].rsplit("/", 1)[-1]},
            {"ip_cidr_range": sub.ip_cidr_range, "network": sub.network.rsplit("/", 1)[-1]})

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        self.client.set_private_ip_google_access(
            **self._where(), subnetwork=rid,
            subnetworks_set_private_ip_google_access_request_resource={
                "private_ip_google_access": params["private_ip_google_access"]}).result(
            timeout=TIMEOUT)
        return rid

    def describe(self, rid: str) -> str:
        found = self._get(rid)
        return f"{rid} {found.ip_cidr_range}" if found is not None else f"{rid} (gone)"


class DataprocPolicies:
    """Autoscaling policies: found by the id derived from the cluster name, then labels."""

    def __init__(self, gcp: Gcp) -> None:
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
    def __init__(self, gcp: Gcp) -> None:
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


# A shape's own kinds only: sweeping Dataproc for a GCE instance would fail in projects
# where the Dataproc API is not enabled. Unknown shape: sweep both.
_NETWORK = ["gce_firewall", "gce_subnetwork", "gce_network"]
TEARDOWN = {"gce": ["gce_instance"] + _NETWORK,
            "dataproc": ["dataproc_cluster", "dataproc_policy"] + _NETWORK,
            "cloudsql-postgres": ["sql_instance"]}


# What `up` deletes when the spec stops naming it: firewall rules (one resource per rule),
# a Dataproc autoscaling policy (once the cluster no longer uses it), a Cloud SQL IAM login
# (its access) and database that an earlier `up` made.
_PRUNE = {"gce": ["gce_firewall"], "dataproc": ["gce_firewall", "dataproc_policy"],
          "cloudsql-postgres": ["sql_user", "sql_database"]}


def location(spec: Spec) -> Dict[str, str]:
    return {"provider": "gcp", "shape": spec.shape, "project": spec.gcp["project"],
            "region": spec.gcp["region"], "zone": spec.gcp["zone"],
            "endpoint": spec.gcp["endpoint"]}


def backend_for(name: str, where: Dict[str, str], credentials: Any = None) -> Backend:
    return _backend(Gcp(name, where, credentials))


def _backend(gcp: Gcp) -> Backend:
    kinds = {"gce_instance": GceInstances, "gce_firewall": GceFirewalls,
             "sql_instance": SqlInstances, "sql_database": SqlDatabases, "sql_user": SqlUsers,
             "gce_network": GceNetworks, "gce_subnetwork": GceSubnetworks,
             "dataproc_policy": DataprocPolicies, "dataproc_cluster": DataprocClusters}
    teardown = TEARDOWN.get(gcp.shape) or ["dataproc_cluster", "dataproc_policy"] + \
        TEARDOWN["gce"]
    found = Backend(_Lazy(gcp, kinds), teardown, gcp.location,  # type: ignore[arg-type]
                    prune=_PRUNE.get(gcp.shape, []), recorded_only={"sql_user", "sql_database"})
    if gcp.shape == "cloudsql-postgres":
        found.endpoint = lambda ids: cloudsql_uri(found, ids)
    return found


def cloudsql_uri(backend: Backend, ids: Dict[str, str]) -> str:
    """What `invindex publish` takes: the IAM user's role (or postgres) at the instance's
    private or public IP, TLS required; and the connection name for the connectors."""
    e = backend.handlers["sql_instance"].endpoint(ids["sql_instance"])
    user = database_user(ids["sql_user"].split("/", 1)[1]) if "sql_user" in ids else "postgres"
    db = ids["sql_database"].split("/", 1)[1]
    return (f"uri: postgresql://{quote(user, safe='')}@{e['host']}:5432/{db}?sslmode=require\n"
            f"connection name: {e['connection']} (Cloud SQL Auth Proxy / connectors)"
            + ("" if "sql_user" in ids else "\npassword: none set; `gcloud sql users "
               "set-password postgres`, or name database.iam_user"))


class _Lazy(dict):
    """Build a kind's client only when that kind is used (Dataproc needs its own library)."""

    def __init__(self, gcp: Gcp, kinds: Dict[str, Any]) -> None:
        super().__init__()
        self.gcp, self.kinds = gcp, kinds

    def __missing__(self, kind: str) -> Any:
        self[kind] = self.kinds[kind](self.gcp)
        return self[kind]


def make_plan(spec: Spec, credentials: Any = None) -> Tuple[Plan, Backend]:
    gcp = Gcp(spec.name, location(spec), credentials)
    ctx: Dict[str, Any] = {"project": gcp.project, "zone": gcp.zone, "region": gcp.region}
    key = spec.machine.get("ssh_public_key") if "machine" in spec.sections else ""
    if key:
        try:
            ctx["ssh_key"] = Path(key).expanduser().read_text().strip()
        except OSError as e:
            raise InvindexError(f"machine.ssh_public_key: {e}") from None
    builders = {"gce": gce_steps, "dataproc": dataproc_steps, "cloudsql-postgres": cloudsql_steps}
    steps = builders[spec.shape](spec, ctx)
    return Plan(spec, steps, {"project": gcp.project, "zone": gcp.zone}), _backend(gcp)
