"""GCP network handlers: firewall rules, VPC networks and subnetworks. They carry no
labels: ours carry the cluster's marker in their description (``gcp_steps``)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from .deps import need
from .gcp_calls import TIMEOUT, found_ours, get_or_none
from .gcp_steps import firewall_marker
from .plan import Fields, Step, diff_fields


class _Marked:
    """Compute resources without labels (firewall rules, networks, subnetworks): ours carry
    the cluster's marker in their description. ``field`` is the request's resource argument
    (firewall, network, subnetwork); subnetworks are regional."""

    client_name, field, regional, kind = "", "", False, ""

    def __init__(self, gcp: Any) -> None:  # a gcp.Gcp
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
