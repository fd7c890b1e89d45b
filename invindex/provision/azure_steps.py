"""Pure request builders for the Azure Linux VM, in ARM's wire format (what the REST API
documents and what the SDK sends as-is).

Secure defaults: SSH key only (password authentication disabled), Trusted Launch (secure
boot, vTPM), a network security group with only the spec's inbound rules (Azure's default
rules deny inbound internet traffic), no public IP unless asked, OS disk and NIC deleted
with the VM, tags on every resource, its own resource group unless one is named.
"""

from __future__ import annotations

import base64
from typing import Any, Dict, List

from ..errors import UsageError
from .plan import Ref, Step
from .spec import Spec

ADDRESS_SPACE = "10.42.0.0/16"
SUBNET = "10.42.0.0/24"


def _image(ref: str) -> Dict[str, str]:
    parts = ref.split(":")
    if len(parts) != 4:
        raise UsageError(f"machine.image {ref!r}: use publisher:offer:sku:version")
    return dict(zip(("publisher", "offer", "sku", "version"), parts, strict=True))


def vm_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    name, m, net = spec.name, spec.machine, spec.network
    where = {"location": ctx["location"], "tags": spec.all_tags()}
    steps: List[Step] = []
    if ctx["own_group"]:
        steps.append(Step("resource_group", ctx["resource_group"], dict(where),
                          summary=f"in {ctx['location']}, deleted with the cluster"))
    rules = [{"name": f"allow-{i}", "properties": {
        "protocol": r.protocol.capitalize(), "sourceAddressPrefix": r.cidr,
        "sourcePortRange": "*", "destinationAddressPrefix": "*",
        "destinationPortRange": str(r.port), "access": "Allow", "direction": "Inbound",
        "priority": 100 + i}} for i, r in enumerate(spec.ingress)]
    steps.append(Step("network_security_group", f"{name}-nsg",
                      {**where, "properties": {"securityRules": rules}}, key="nsg",
                      summary="inbound: " + (", ".join(
                          f"{r.protocol}/{r.port} from {r.cidr}" for r in spec.ingress)
                          or "nothing from the internet")))
    steps.append(Step("virtual_network", f"{name}-vnet", {**where, "properties": {
        "addressSpace": {"addressPrefixes": [ADDRESS_SPACE]},
        "subnets": [{"name": "default", "properties": {
            "addressPrefix": SUBNET, "networkSecurityGroup": {"id": Ref("nsg")}}}]}},
        key="vnet", summary=f"{ADDRESS_SPACE}, subnet {SUBNET}"))
    ip_config: Dict[str, Any] = {"subnet": {"id": Ref("vnet", "{}/subnets/default")},
                                 "privateIPAllocationMethod": "Dynamic"}
    if net["public_ip"]:
        steps.append(Step("public_ip", f"{name}-ip", {
            **where, "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Static"}}, key="public_ip",
            summary="static, Standard SKU"))
        ip_config["publicIPAddress"] = {"id": Ref("public_ip")}
    steps.append(Step("network_interface", f"{name}-nic", {**where, "properties": {
        "ipConfigurations": [{"name": "ipconfig1", "properties": ip_config}],
        "networkSecurityGroup": {"id": Ref("nsg")}}}, key="nic"))
    user = m["admin_user"]
    os_profile: Dict[str, Any] = {
        "computerName": name, "adminUsername": user,
        "linuxConfiguration": {
            "disablePasswordAuthentication": True, "provisionVMAgent": True,
            "ssh": {"publicKeys": [{"path": f"/home/{user}/.ssh/authorized_keys",
                                    "keyData": ctx["ssh_key"]}]}}}
    if spec.user_data():
        os_profile["customData"] = base64.b64encode(spec.user_data().encode()).decode()
    steps.append(Step("virtual_machine", name, {**where, "properties": {
        "hardwareProfile": {"vmSize": m["type"]},
        "storageProfile": {
            "imageReference": _image(m["image"]),
            "osDisk": {"name": f"{name}-osdisk", "createOption": "FromImage",
                       "diskSizeGB": m["disk_gb"], "deleteOption": "Delete",
                       "managedDisk": {"storageAccountType": "StandardSSD_LRS"}}},
        "osProfile": os_profile,
        "networkProfile": {"networkInterfaces": [
            {"id": Ref("nic"), "properties": {"primary": True, "deleteOption": "Delete"}}]},
        "securityProfile": {"securityType": "TrustedLaunch",
                            "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}},
    }}, key="vm", summary=f"{m['type']} {m['image']}, SSH key only, Trusted Launch"))
    return steps
