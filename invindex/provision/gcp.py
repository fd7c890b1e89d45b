"""GCP side effects: clients (REST transport, google.auth's default credentials), the VM's
handler, and the plan/backend entry points (network, Dataproc and Cloud SQL handlers live
in ``gcp_network``, ``gcp_dataproc``, ``gcp_sql``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple
from urllib.parse import quote

from ..errors import InvindexError
from .deps import need
from .engine import Backend
from .gcp_calls import TIMEOUT, found_ours, get_or_none
from .gcp_dataproc import DataprocClusters, DataprocPolicies
from .gcp_network import GceFirewalls, GceNetworks, GceSubnetworks
from .gcp_sql import SqlDatabases, SqlInstances, SqlUsers, cloudsql_steps, database_user
from .gcp_steps import dataproc_steps, gce_steps
from .plan import Fields, Plan, Step, diff_fields
from .spec import MANAGED_BY, TAG_CLUSTER, TAG_MANAGED, Spec


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
