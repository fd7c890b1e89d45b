"""Pure request builders for EC2 pieces shared by the single instance and the fleet.

Secure defaults live here: IMDSv2 required, encrypted root volume, a security group with
only the spec's inbound rules, tags on every resource (propagated to instances and volumes).
"""

from __future__ import annotations

import base64
from typing import Any, Dict, List

from .aws_common import tag_list
from .plan import Ref, Step
from .spec import Spec

# IMDSv2 only; hop limit 1 keeps the token inside the instance (containers need 2).
METADATA_OPTIONS = {"HttpTokens": "required", "HttpEndpoint": "enabled",
                    "HttpPutResponseHopLimit": 1}


def security_group_step(spec: Spec, ctx: Dict[str, Any], *, peers: bool) -> Step:
    """The cluster's security group; ``peers`` lets members reach each other (a fleet)."""
    rules = [_permission(spec.name, r.protocol, r.port, r.cidr) for r in spec.ingress]
    opened = ", ".join(f"{r.protocol}/{r.port} from {r.cidr}" for r in spec.ingress)
    return Step("security_group", f"{spec.name}-sg", {
        "GroupName": f"{spec.name}-sg",
        "Description": f"invindex cluster {spec.name}",
        "VpcId": ctx["vpc_id"],
        "TagSpecifications": [{"ResourceType": "security-group",
                               "Tags": tag_list({**spec.all_tags(), "Name": f"{spec.name}-sg"})}],
        "IpPermissions": rules,
        "AllowPeers": peers,
    }, summary="inbound: " + (opened or "nothing") + (" + members of the group" if peers else ""))


def _permission(name: str, protocol: str, port: int, cidr: str) -> Dict[str, Any]:
    v6 = ":" in cidr
    return {"IpProtocol": protocol, "FromPort": port, "ToPort": port,
            "Ipv6Ranges" if v6 else "IpRanges": [
                {"CidrIpv6" if v6 else "CidrIp": cidr, "Description": f"{name} spec ingress"}]}


def _block_devices(spec: Spec, ctx: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"DeviceName": ctx["root_device"],
             "Ebs": {"VolumeSize": spec.machine["disk_gb"], "VolumeType": "gp3",
                     "Encrypted": True, "DeleteOnTermination": True}}]


def _instance_tags(spec: Spec, name: str) -> List[Dict[str, Any]]:
    tags = tag_list({**spec.all_tags(), "Name": name})
    return [{"ResourceType": "instance", "Tags": tags}, {"ResourceType": "volume", "Tags": tags}]


def launch_data(spec: Spec, ctx: Dict[str, Any], name: str) -> Dict[str, Any]:
    """Instance settings common to run_instances and a launch template's data."""
    m = spec.machine
    data: Dict[str, Any] = {
        "ImageId": ctx["image_id"],
        "InstanceType": m["type"],
        "MetadataOptions": dict(METADATA_OPTIONS),
        "BlockDeviceMappings": _block_devices(spec, ctx),
        "TagSpecifications": _instance_tags(spec, name),
    }
    # The primary interface spelled out, so that what happens to it is explicit: deleted
    # with the instance (an interface left behind keeps its address and security group)
    # and a public address only when the spec asks.
    data["NetworkInterfaces"] = [{
        "DeviceIndex": 0, "AssociatePublicIpAddress": bool(spec.network["public_ip"]),
        "DeleteOnTermination": True, "Groups": [Ref("security_group")]}]
    if m["key_name"]:
        data["KeyName"] = m["key_name"]
    if m["instance_profile"]:
        data["IamInstanceProfile"] = {"Name": m["instance_profile"]}
    return data


def instance_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    """Security group, then one instance in the first subnet."""
    data = launch_data(spec, ctx, spec.name)
    subnet = ctx["subnets"][0][0]
    data["NetworkInterfaces"][0]["SubnetId"] = subnet
    user_data = spec.user_data()
    if user_data:
        data["UserData"] = user_data  # boto3 base64-encodes it for RunInstances
    params = {**data, "MinCount": 1, "MaxCount": 1}
    return [security_group_step(spec, ctx, peers=False),
            Step("instance", spec.name, params,
                 summary=f"{spec.machine['type']} {ctx['image_id']} in {subnet}, IMDSv2, "
                         f"encrypted {spec.machine['disk_gb']} GB root")]


def encode_user_data(text: str) -> str:
    """Launch templates take user data base64-encoded (RunInstances encodes it itself)."""
    return base64.b64encode(text.encode()).decode()
