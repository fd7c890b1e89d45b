"""Pure request builders for GCP: a GCE instance (and firewall rules), a Dataproc cluster
with an autoscaling policy. Bodies use the client libraries' field names (snake_case).

Secure defaults: Shielded VM (secure boot, vTPM, integrity monitoring), no external IP
unless asked, OS Login unless an SSH key is given (then project-wide keys are blocked), no
service account unless named, firewall rules only for the spec's ingress, labels on all.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from ..errors import UsageError
from .plan import Ref, Step
from .spec import MANAGED_BY, TAG_CLUSTER, Spec

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
SHIELDED = {"enable_secure_boot": True, "enable_vtpm": True, "enable_integrity_monitoring": True}
_LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def labels(spec: Spec) -> Dict[str, str]:
    found = spec.all_tags()
    for key, value in found.items():
        if not _LABEL.match(key) or not re.match(r"^[a-z0-9_-]{0,63}$", value):
            raise UsageError(f"tags.{key} = {value!r} is not a valid GCP label (lowercase "
                             "letters, digits, '-' and '_')")
    return found


def firewall_marker(name: str) -> str:
    """Firewall rules have no labels: this description marks ours."""
    return f"{TAG_CLUSTER}={name} managed-by={MANAGED_BY}"


def policy_id(cluster: str) -> str:
    """The autoscaling policy's id: at most 48 characters (the API allows 50)."""
    return f"{cluster}-scaling"


def owns_network(spec: Spec) -> bool:
    """Whether the cluster gets its own network and subnet (none named in the spec); the
    project's ``default`` network is never used: its stock rules open SSH, RDP and ICMP to
    the world."""
    return not spec.network["subnetwork"]


def network_url(spec: Spec, ctx: Dict[str, Any]) -> str:
    if owns_network(spec):
        return f"projects/{ctx['project']}/global/networks/{spec.name}-net"
    return spec.network["vpc_network"]


def subnetwork_url(spec: Spec, ctx: Dict[str, Any]) -> str:
    if owns_network(spec):
        return f"projects/{ctx['project']}/regions/{ctx['region']}/subnetworks/{spec.name}-subnet"
    return spec.network["subnetwork"]


def network_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    """A custom-mode network and one subnet with Private Google Access (nodes without an
    external IP still reach Google APIs); Dataproc nodes also need to reach each other."""
    if not owns_network(spec):
        return []
    cidr = spec.network["subnet_cidr"]
    marker = firewall_marker(spec.name)
    steps = [
        Step("gce_network", f"{spec.name}-net", {
            "name": f"{spec.name}-net", "auto_create_subnetworks": False,
            "routing_config": {"routing_mode": "REGIONAL"}, "description": marker},
            summary="custom mode, no firewall rule but the cluster's"),
        Step("gce_subnetwork", f"{spec.name}-subnet", {
            "name": f"{spec.name}-subnet", "network": network_url(spec, ctx),
            "region": ctx["region"], "ip_cidr_range": cidr,
            "private_ip_google_access": True, "description": marker},
            summary=f"{cidr} in {ctx['region']}, Private Google Access"),
    ]
    if spec.shape == "dataproc":
        steps.append(Step("gce_firewall", f"{spec.name}-internal", {
            "name": f"{spec.name}-internal", "network": network_url(spec, ctx),
            "direction": "INGRESS", "priority": 1000,
            "allowed": [{"I_p_protocol": "tcp"}, {"I_p_protocol": "udp"},
                        {"I_p_protocol": "icmp"}],
            "source_ranges": [cidr], "description": marker},
            key="firewall_internal", summary=f"cluster nodes reach each other ({cidr})"))
    return steps


def firewall_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    steps = network_steps(spec, ctx)
    for i, rule in enumerate(spec.ingress):
        name = f"{spec.name}-allow-{i}"
        steps.append(Step("gce_firewall", name, {
            "name": name, "network": network_url(spec, ctx),
            "direction": "INGRESS", "priority": 1000,
            "allowed": [{"I_p_protocol": rule.protocol, "ports": [str(rule.port)]}],
            "source_ranges": [rule.cidr], "target_tags": [spec.name],
            "description": firewall_marker(spec.name)},
            key=f"firewall_{i}", summary=f"{rule.protocol}/{rule.port} from {rule.cidr}"))
    return steps


def gce_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    m, net, zone = spec.machine, spec.network, ctx["zone"]
    nic: Dict[str, Any] = {"subnetwork": subnetwork_url(spec, ctx)}
    if net["public_ip"]:
        nic["access_configs"] = [{"name": "external-nat", "type_": "ONE_TO_ONE_NAT"}]
    meta = [{"key": "block-project-ssh-keys", "value": "TRUE"}]
    if ctx.get("ssh_key"):
        meta.append({"key": "ssh-keys", "value": f"{m['admin_user']}:{ctx['ssh_key']}"})
    else:
        meta.append({"key": "enable-oslogin", "value": "TRUE"})
    if spec.user_data():
        meta.append({"key": "startup-script", "value": spec.user_data()})
    params: Dict[str, Any] = {
        "name": spec.name, "machine_type": f"zones/{zone}/machineTypes/{m['type']}",
        "labels": labels(spec), "tags": {"items": [spec.name]},
        "disks": [{"boot": True, "auto_delete": True, "initialize_params": {
            "source_image": m["image"], "disk_size_gb": m["disk_gb"]}}],
        "network_interfaces": [nic], "metadata": {"items": meta},
        "shielded_instance_config": dict(SHIELDED),
    }
    if m["service_account"]:
        params["service_accounts"] = [{"email": m["service_account"], "scopes": [SCOPE]}]
    return firewall_steps(spec, ctx) + [Step(
        "gce_instance", spec.name, params,
        summary=f"{m['type']} in {zone}, Shielded VM, "
                f"{'external IP' if net['public_ip'] else 'no external IP'}, "
                f"{'SSH key' if ctx.get('ssh_key') else 'OS Login'}")]


def dataproc_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    d, sc, net = spec.dataproc, spec.scaling, spec.network
    if sc["mode"] != "none" and sc["cooldown"] < 120:
        raise UsageError("scaling.cooldown must be at least 120 s for Dataproc")
    steps = firewall_steps(spec, ctx)
    gce: Dict[str, Any] = {
        "zone_uri": ctx["zone"], "internal_ip_only": not net["public_ip"],
        "shielded_instance_config": dict(SHIELDED),
        "subnetwork_uri": subnetwork_url(spec, ctx),
        # OS Login on every node (IAM decides who logs in); no project-wide SSH keys
        "metadata": {"enable-oslogin": "true", "block-project-ssh-keys": "true"},
    }
    if spec.machine["service_account"]:
        gce["service_account"] = spec.machine["service_account"]
        gce["service_account_scopes"] = [SCOPE]
    config: Dict[str, Any] = {
        "gce_cluster_config": gce,
        "master_config": {"num_instances": 1, "machine_type_uri": d["master_type"]},
        "worker_config": {"num_instances": d["workers"], "machine_type_uri": d["worker_type"]},
        "software_config": {"image_version": d["image_version"]},
        "endpoint_config": {"enable_http_port_access": False},
    }
    if sc["desired"]:
        config["secondary_worker_config"] = {"num_instances": sc["desired"]}
    if d["init_script"]:
        config["initialization_actions"] = [{"executable_file": d["init_script"]}]
    if d["idle_delete_ttl"]:
        config["lifecycle_config"] = {"idle_delete_ttl": {"seconds": d["idle_delete_ttl"]}}
    if sc["mode"] != "none":
        steps.append(Step("dataproc_policy", policy_id(spec.name), {
            "id": policy_id(spec.name), "labels": labels(spec),
            "basic_algorithm": {
                "yarn_config": {
                    "scale_up_factor": d["scale_up_factor"],
                    "scale_down_factor": d["scale_down_factor"],
                    "graceful_decommission_timeout": {
                        "seconds": d["graceful_decommission_timeout"]}},
                "cooldown_period": {"seconds": sc["cooldown"]}},
            "worker_config": {"min_instances": d["workers"], "max_instances": d["workers"]},
            "secondary_worker_config": {"min_instances": sc["min"], "max_instances": sc["max"]},
        }, summary=f"{d['workers']} primary workers fixed, secondary {sc['min']}..{sc['max']}, "
                   f"cooldown {sc['cooldown']} s, YARN memory based"))
        config["autoscaling_config"] = {"policy_uri": Ref("dataproc_policy")}
    steps.append(Step("dataproc_cluster", spec.name, {
        "project_id": ctx["project"], "cluster_name": spec.name, "labels": labels(spec),
        "config": config},
        summary=f"{d['image_version']}, 1 master + {d['workers']} workers, "
                f"{'internal IPs only' if not net['public_ip'] else 'external IPs'}, idle "
                f"delete {d['idle_delete_ttl']} s"))
    return steps
