"""AWS entry points: read-only lookups for the plan, and the backend that applies it."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ..errors import InvindexError
from .aws_common import Aws, aws_for, errors
from .aws_db import dynamodb_steps, rds_steps
from .aws_db_resources import db_handlers
from .aws_emr import emr_steps
from .aws_emr_resources import emr_handlers
from .aws_fleet import fleet_steps
from .aws_instance import instance_steps
from .aws_resources import TEARDOWN, handlers
from .engine import Backend
from .plan import Plan
from .spec import Spec

# Amazon Linux 2023, resolved through the public SSM parameter (read-only).
DEFAULT_IMAGE_PARAM = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
_BUILDERS = {"emr": emr_steps, "fleet": fleet_steps, "instance": instance_steps,
             "rds-postgres": rds_steps, "dynamodb": dynamodb_steps}


def lookup(spec: Spec, aws: Aws) -> Dict[str, Any]:
    """Facts the plan needs from the account, by Describe/Get calls only."""
    ctx: Dict[str, Any] = {}
    if spec.shape == "dynamodb":
        return ctx
    ec2 = aws.client("ec2")
    net = spec.network
    with errors("looking up the network"):
        if spec.shape == "emr":
            subnets = _subnets(ec2, net["subnet_ids"]) if net["subnet_ids"] else []
            return {"subnets": subnets}
        vpc = net["vpc_id"]
        if not vpc and net["subnet_ids"]:
            vpc = ec2.describe_subnets(SubnetIds=net["subnet_ids"][:1])["Subnets"][0]["VpcId"]
        if not vpc:
            vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
            if not vpcs:
                raise InvindexError("no default VPC in this region: set network.vpc_id and "
                                    "network.subnet_ids")
            vpc = vpcs[0]["VpcId"]
        ctx["vpc_id"] = vpc
        ctx["subnets"] = _subnets(ec2, net["subnet_ids"]) if net["subnet_ids"] else [
            (s["SubnetId"], s["AvailabilityZone"]) for s in sorted(
                ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"],
                key=lambda s: s["AvailabilityZone"])]
        if not ctx["subnets"]:
            raise InvindexError(f"VPC {vpc} has no subnets: set network.subnet_ids")
    if spec.shape == "rds-postgres":
        return ctx
    with errors("looking up the image"):
        image = spec.machine["image"] or aws.client("ssm").get_parameter(
            Name=DEFAULT_IMAGE_PARAM)["Parameter"]["Value"]
        found = ec2.describe_images(ImageIds=[image])["Images"]
        if not found:
            raise InvindexError(f"image {image} not found in {aws.region}")
        ctx["image_id"] = image
        ctx["root_device"] = found[0].get("RootDeviceName") or "/dev/xvda"
    return ctx


def _subnets(ec2: Any, ids: List[str]) -> List[Tuple[str, str]]:
    found = {s["SubnetId"]: s["AvailabilityZone"]
             for s in ec2.describe_subnets(SubnetIds=ids)["Subnets"]}
    return [(i, found[i]) for i in ids]


def make_plan(spec: Spec, session: Any = None) -> Tuple[Plan, Backend]:
    aws = aws_for(spec, session)
    steps = _BUILDERS[spec.shape](spec, lookup(spec, aws))
    return Plan(spec, steps, {"region": aws.region}), backend(aws, spec.shape)


# A shape's own kinds first (sweeping RDS for a fleet would need RDS permissions); a record
# without a shape (written before shapes were recorded) sweeps every kind.
_SHAPE_KINDS = {"emr": {"emr_managed_scaling", "emr_cluster", "emr_security_configuration"},
                "fleet": {"alarm", "scaling_policy", "auto_scaling_group", "instance",
                          "launch_template", "security_group"},
                "instance": {"instance", "security_group"},
                "rds-postgres": {"db_instance", "db_subnet_group", "security_group"},
                "dynamodb": {"dynamodb_table"}}


# What `up` deletes when the spec stops naming it: a fleet's alarms and scaling policies
# (switching mode, or a metric, which names the alarms), an EMR cluster's managed scaling.
# Every other kind is one per cluster, compared in place (or refused as a replacement).
_PRUNE = {"fleet": ["alarm", "scaling_policy"], "emr": ["emr_managed_scaling"]}


def backend(aws: Aws, shape: str = "") -> Backend:
    label = {"provider": "aws", "shape": shape, "region": aws.region, "profile": aws.profile}
    kinds = _SHAPE_KINDS.get(shape)
    teardown = [k for k in TEARDOWN if kinds is None or k in kinds]
    found = Backend({**handlers(aws), **emr_handlers(aws), **db_handlers(aws)}, teardown, label,
                    prune=_PRUNE.get(shape, []))
    found.endpoint = lambda ids: serving_uri(found, shape, ids, aws.region)
    return found


def serving_uri(backend: Backend, shape: str, ids: Dict[str, str], region: str) -> str:
    """What `invindex publish` takes, and where its password is (never the password)."""
    if shape == "dynamodb":
        return f"uri: dynamodb://{ids['dynamodb_table']}?region={region}"
    if shape == "rds-postgres":
        e = backend.handlers["db_instance"].endpoint(ids["db_instance"])
        return (f"uri: postgresql://{e['user']}@{e['host']}:{e['port']}/{e['db']}"
                f"?sslmode=verify-full\npassword: in AWS Secrets Manager, {e['secret']} "
                "(or an IAM auth token for a role granted rds_iam)")
    return ""


def backend_for(name: str, location: Dict[str, str], session: Any = None) -> Backend:
    return backend(Aws(name, location.get("region", ""), location.get("profile", ""),
                       session=session), location.get("shape", ""))


def location(spec: Spec) -> Dict[str, str]:
    """Where to look, even without local state: region (and profile) are enough."""
    aws = aws_for(spec)
    return {"provider": "aws", "shape": spec.shape, "region": aws.region,
            "profile": spec.aws["profile"]}
