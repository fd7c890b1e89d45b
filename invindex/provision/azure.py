"""Azure side effects: clients (azure-identity's DefaultAzureCredential), one handler per
resource type, found by tag through the subscription's resource listing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

from ..errors import InvindexError
from .azure_steps import vm_steps
from .deps import need
from .engine import Backend
from .plan import Fields, Plan, Step, diff_fields
from .spec import MANAGED_BY, TAG_CLUSTER, TAG_MANAGED, Spec


class Azure:
    def __init__(self, cluster: str, where: Dict[str, str], credential: Any = None,
                 client_kwargs: Dict[str, Any] | None = None) -> None:
        need("azure.mgmt.compute", "Azure provisioning")
        if credential is None:
            credential = need("azure.identity", "Azure provisioning").DefaultAzureCredential()
        self.subscription = where.get("subscription_id") or os.environ.get(
            "AZURE_SUBSCRIPTION_ID", "")
        if not self.subscription:
            raise InvindexError("no Azure subscription: set azure.subscription_id or "
                                "AZURE_SUBSCRIPTION_ID")
        self.cluster, self.credential = cluster, credential
        self.region = where["location"]
        self.resource_group = where.get("resource_group") or f"{cluster}-rg"
        self.endpoint = where.get("endpoint", "")
        self.kwargs = dict(client_kwargs or {})
        if self.endpoint:
            self.kwargs["base_url"] = self.endpoint
        self._clients: Dict[str, Any] = {}

    @property
    def location(self) -> Dict[str, str]:
        return {"provider": "azure", "subscription_id": self.subscription,
                "resource_group": self.resource_group, "location": self.region,
                "endpoint": self.endpoint}

    def client(self, which: str) -> Any:
        if which not in self._clients:
            if which == "resource":
                module = need("azure.mgmt.resource", "Azure provisioning")
                cls = getattr(module, "ResourceManagementClient", None) or need(
                    "azure.mgmt.resource.resources", "Azure provisioning").ResourceManagementClient
            else:
                module = need(f"azure.mgmt.{which}", "Azure provisioning")
                cls = getattr(module, f"{which.capitalize()}ManagementClient")
            self._clients[which] = cls(self.credential, self.subscription, **self.kwargs)
        return self._clients[which]

    def owns(self, tags: Any) -> bool:
        tags = dict(tags or {})
        return tags.get(TAG_CLUSTER) == self.cluster and tags.get(TAG_MANAGED) == MANAGED_BY

    def tagged(self, arm_type: str) -> List[str]:
        """Ids of resources of ``arm_type`` carrying the cluster tag, subscription-wide."""
        found = self.client("resource").resources.list(
            filter=f"tagName eq '{TAG_CLUSTER}' and tagValue eq '{self.cluster}'")
        return [r.id for r in found if (r.type or "").lower() == arm_type.lower()
                and self.owns(r.tags)]


def _not_found(e: BaseException) -> bool:
    return type(e).__name__ == "ResourceNotFoundError" or getattr(e, "status_code", 0) == 404


def _parts(rid: str) -> Tuple[str, str]:
    """(resource group, name) of an ARM id."""
    bits = rid.split("/")
    lower = [b.lower() for b in bits]
    return bits[lower.index("resourcegroups") + 1], bits[-1]


class ArmResource:
    """Create/get/delete for one ARM type through its SDK operation group."""

    def __init__(self, az: Azure, arm_type: str, ops: Callable[[], Any]) -> None:
        self.az, self.arm_type, self.ops = az, arm_type, ops

    def find(self, step: Step, params: Dict) -> str | None:
        try:
            found = self.ops().get(self.az.resource_group, step.name)
        except Exception as e:
            if _not_found(e):
                return None
            raise
        if not self.az.owns(found.tags):
            raise InvindexError(f"a {self.arm_type} named {step.name} exists but is not "
                                "tagged for this cluster; rename the cluster or remove it")
        return found.id

    def create(self, step: Step, params: Dict) -> str:
        made = self.ops().begin_create_or_update(self.az.resource_group, step.name,
                                                 params).result()
        return made.id

    def delete(self, rid: str) -> None:
        group, name = _parts(rid)
        try:
            self.ops().begin_delete(group, name).result()
        except Exception as e:
            if not _not_found(e):
                raise

    def find_all(self) -> List[str]:
        return self.az.tagged(self.arm_type)

    def describe(self, rid: str) -> str:
        group, name = _parts(rid)
        try:
            found = self.ops().get(group, name)
        except Exception as e:
            if _not_found(e):
                return f"{name} (gone)"
            raise
        props = getattr(found, "properties", None)
        state = getattr(props, "provisioning_state", None) or getattr(
            found, "provisioning_state", "")
        return f"{name} in {group} {state or ''}".rstrip()


_RULE_FIELDS = {"protocol": "protocol", "sourceAddressPrefix": "source_address_prefix",
                "sourcePortRange": "source_port_range",
                "destinationAddressPrefix": "destination_address_prefix",
                "destinationPortRange": "destination_port_range", "access": "access",
                "direction": "direction", "priority": "priority"}


class NetworkSecurityGroups(ArmResource):
    """The spec's ingress rules are the group's ``securityRules``: compared as a whole and
    replaced by one PUT of the group (the rules list in a PUT is the new list, so a rule
    the spec dropped is gone), as an AWS security group's rules are revoked in place."""

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        group, name = _parts(rid)
        found = self.ops().get(group, name)
        have = sorted(_show_rule(r.name, {k: getattr(r, attr, None)
                                          for k, attr in _RULE_FIELDS.items()})
                      for r in (found.security_rules or []))
        want = sorted(_show_rule(r["name"], r["properties"])
                      for r in params["properties"]["securityRules"])
        return ({"securityRules": (have, want)} if have != want else {}), {}

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        return self.create(step, params)


def _ref(value: Any) -> str:
    """An ARM id reference (``{"id": ...}`` in a request, a sub-resource read back) as
    comparable text; ARM ids are case-insensitive."""
    found = value.get("id") if isinstance(value, dict) else getattr(value, "id", None)
    return (found or "").lower()


class NetworkInterfaces(ArmResource):
    """What the NIC joins (subnet, security group) and whether it has a public address
    change in place: one PUT of the NIC (so dropping ``public_ip`` detaches the address
    before `up` deletes it)."""

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        group, name = _parts(rid)
        found = self.ops().get(group, name)
        ip = (found.ip_configurations or [None])[0]
        want = params["properties"]["ipConfigurations"][0]["properties"]
        have = {"subnet": _ref(getattr(ip, "subnet", None)),
                "publicIPAddress": _ref(getattr(ip, "public_ip_address", None)),
                "networkSecurityGroup": _ref(found.network_security_group)}
        wanted = {"subnet": _ref(want.get("subnet")),
                  "publicIPAddress": _ref(want.get("publicIPAddress")),
                  "networkSecurityGroup": _ref(params["properties"].get(
                      "networkSecurityGroup"))}
        return diff_fields(wanted, have), {}

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        return self.create(step, params)


class VirtualMachines(ArmResource):
    """The size changes in place (a PUT of the VM; Azure restarts it); the image, the
    admin user, the SSH key, the OS disk and the security type only with a new VM."""

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        group, name = _parts(rid)
        vm = self.ops().get(group, name)
        props = params["properties"]
        update = diff_fields({"vmSize": props["hardwareProfile"]["vmSize"]},
                             {"vmSize": getattr(vm.hardware_profile, "vm_size", None)})
        image = vm.storage_profile.image_reference if vm.storage_profile else None
        linux = vm.os_profile.linux_configuration if vm.os_profile else None
        keys = [k.key_data for k in (linux.ssh.public_keys or [])] if linux and linux.ssh \
            else []
        have = {"imageReference": {k: getattr(image, k, None) for k in
                                   props["storageProfile"]["imageReference"]},
                "adminUsername": getattr(vm.os_profile, "admin_username", None),
                "sshKeys": keys,
                "osDiskSizeGB": getattr(vm.storage_profile.os_disk, "disk_size_gb", None)
                if vm.storage_profile else None}
        want = {"imageReference": props["storageProfile"]["imageReference"],
                "adminUsername": props["osProfile"]["adminUsername"],
                "sshKeys": [k["keyData"] for k in
                            props["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"]],
                "osDiskSizeGB": props["storageProfile"]["osDisk"]["diskSizeGB"]}
        return update, diff_fields(want, have)

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        return self.create(step, params)


def _show_rule(name: str, props: Dict[str, Any]) -> str:
    """One comparable line per rule; the SDK reads enums back (``.value`` is the text)."""
    values = {k: getattr(props.get(k), "value", props.get(k)) for k in _RULE_FIELDS}
    return f"{name} " + " ".join(f"{k}={str(v).lower()}" for k, v in values.items())


class ResourceGroups:
    def __init__(self, az: Azure) -> None:
        self.az = az

    def _ops(self) -> Any:
        return self.az.client("resource").resource_groups

    def find(self, step: Step, params: Dict) -> str | None:
        try:
            found = self._ops().get(step.name)
        except Exception as e:
            if _not_found(e):
                return None
            raise
        if not self.az.owns(found.tags):
            raise InvindexError(f"resource group {step.name} exists but is not tagged for "
                                "this cluster; name it in azure.resource_group to use it")
        return found.id

    def create(self, step: Step, params: Dict) -> str:
        return self._ops().create_or_update(step.name, params).id

    def delete(self, rid: str) -> None:
        try:
            self._ops().begin_delete(rid.rsplit("/", 1)[-1]).result()
        except Exception as e:
            if not _not_found(e):
                raise

    def find_all(self) -> List[str]:
        found = self._ops().list(
            filter=f"tagName eq '{TAG_CLUSTER}' and tagValue eq '{self.az.cluster}'")
        return [g.id for g in found if self.az.owns(g.tags)]

    def describe(self, rid: str) -> str:
        return rid.rsplit("/", 1)[-1]


TEARDOWN = ["virtual_machine", "network_interface", "public_ip", "virtual_network",
            "network_security_group", "resource_group"]


def _backend(az: Azure) -> Backend:
    net = lambda: az.client("network")  # noqa: E731
    handlers: Dict[str, Any] = {
        "resource_group": ResourceGroups(az),
        "network_security_group": NetworkSecurityGroups(
            az, "Microsoft.Network/networkSecurityGroups", lambda: net().network_security_groups),
        "virtual_network": ArmResource(az, "Microsoft.Network/virtualNetworks",
                                       lambda: net().virtual_networks),
        "public_ip": ArmResource(az, "Microsoft.Network/publicIPAddresses",
                                 lambda: net().public_ip_addresses),
        "network_interface": NetworkInterfaces(az, "Microsoft.Network/networkInterfaces",
                                               lambda: net().network_interfaces),
        "virtual_machine": VirtualMachines(az, "Microsoft.Compute/virtualMachines",
                                           lambda: az.client("compute").virtual_machines),
    }
    # a public IP the spec no longer asks for is deleted by `up` (after the NIC lets go)
    return Backend(handlers, TEARDOWN, az.location, prune=["public_ip"])


def location(spec: Spec) -> Dict[str, str]:
    a = spec.azure
    return {"provider": "azure", "subscription_id": a["subscription_id"] or os.environ.get(
        "AZURE_SUBSCRIPTION_ID", ""), "resource_group": a["resource_group"] or
        f"{spec.name}-rg", "location": a["location"], "endpoint": a["endpoint"]}


def backend_for(name: str, where: Dict[str, str], credential: Any = None,
                client_kwargs: Dict[str, Any] | None = None) -> Backend:
    return _backend(Azure(name, where, credential, client_kwargs))


def make_plan(spec: Spec, credential: Any = None,
              client_kwargs: Dict[str, Any] | None = None) -> Tuple[Plan, Backend]:
    az = Azure(spec.name, location(spec), credential, client_kwargs)
    try:
        key = Path(spec.machine["ssh_public_key"]).expanduser().read_text().strip()
    except OSError as e:
        raise InvindexError(f"machine.ssh_public_key: {e}") from None
    if not key.startswith(("ssh-", "ecdsa-", "sk-")):
        raise InvindexError(f"machine.ssh_public_key {spec.machine['ssh_public_key']} does "
                            "not look like an OpenSSH public key")
    ctx = {"location": az.region, "resource_group": az.resource_group, "ssh_key": key,
           "own_group": not spec.azure["resource_group"]}
    plan = Plan(spec, vm_steps(spec, ctx), {"subscription": az.subscription,
                                            "resource group": az.resource_group})
    return plan, _backend(az)
