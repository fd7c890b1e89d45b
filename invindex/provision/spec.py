"""Cluster specs: one TOML file per cluster, every field declared (and documented) here.

The schema is data (``SCHEMA``) so that loading, validation, defaults and the field list
in ``invindex cluster fields`` come from one place. Unknown keys are refused: a typo in
a security-relevant field must not be silently ignored.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Tuple

from ..errors import UsageError

SHAPES: Dict[str, str] = {
    "emr": "aws", "fleet": "aws", "instance": "aws", "rds-postgres": "aws", "dynamodb": "aws",
    "gce": "gcp", "dataproc": "gcp", "cloudsql-postgres": "gcp",
    "azure-vm": "azure",
}
TAG_CLUSTER = "invindex-cluster"
TAG_MANAGED = "managed-by"
MANAGED_BY = "invindex"
_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")
# A rule wider than this prefix (or open to everything) needs public = true.
WIDEST_PRIVATE_PREFIX = 8
_WHEEL = re.compile(r"^s3://[^/]+/(.+/)?[A-Za-z0-9_.]+-[^/-]+(-[^/-]+)*-py3-none-any\.whl$")
_ALL = tuple(SHAPES)
_VMS = ("fleet", "instance", "gce", "azure-vm")
_SCALED = ("emr", "fleet", "dataproc")
_AWS = ("emr", "fleet", "instance", "rds-postgres", "dynamodb")
_GCP = ("gce", "dataproc", "cloudsql-postgres")
_DBS = ("rds-postgres", "cloudsql-postgres", "dynamodb")
_SQL = ("rds-postgres", "cloudsql-postgres")
REQUIRED = object()


@dataclass(frozen=True)
class Field:
    default: Any
    doc: str
    shapes: Tuple[str, ...] = _ALL
    choices: Tuple[str, ...] = ()


# section -> key -> Field.  "" is the top level.  A default of None means "per shape"
# (see _SHAPE_DEFAULTS); "" means "unset: the provider's default chain decides".
SCHEMA: Dict[str, Dict[str, Field]] = {
    "": {
        "name": Field(REQUIRED, "cluster name: a-z, 0-9, '-', starts with a letter, at most "
                                "40 characters; names and tags every resource"),
        "shape": Field(REQUIRED, "what to create", choices=_ALL),
    },
    "aws": {
        "region": Field("", "AWS region; empty: the SDK's chain (AWS_REGION, profile)", _AWS),
        "profile": Field("", "named profile in ~/.aws; empty: the default credential chain",
                         _AWS),
    },
    "gcp": {
        "project": Field("", "project id; empty: the project of google.auth.default()",
                         _GCP),
        "region": Field("us-central1", "region (Dataproc, Cloud SQL, the subnet)", _GCP),
        "zone": Field("us-central1-a", "zone (GCE instance; Dataproc placement)", _GCP),
        "endpoint": Field("", "API endpoint override (e.g. Private Service Connect)", _GCP),
    },
    "azure": {
        "subscription_id": Field("", "subscription; empty: $AZURE_SUBSCRIPTION_ID",
                                 ("azure-vm",)),
        "resource_group": Field("", "resource group; empty: NAME-rg, created and owned by "
                                    "the cluster", ("azure-vm",)),
        "location": Field("westeurope", "Azure region", ("azure-vm",)),
        "endpoint": Field("", "ARM endpoint override (sovereign clouds)", ("azure-vm",)),
    },
    "machine": {
        "type": Field(None, "instance type / machine type / VM size", _VMS),
        "image": Field(None, "AMI id (empty: latest Amazon Linux 2023 via SSM), GCE image "
                             "URL, or Azure 'publisher:offer:sku:version'", _VMS),
        "disk_gb": Field(20, "root disk size (always encrypted)", _VMS),
        "key_name": Field("", "EC2 key pair for SSH; empty: none (use SSM Session Manager)",
                          ("fleet", "instance", "emr")),
        "ssh_public_key": Field("", "path to an SSH public key (required for azure-vm; "
                                    "optional for gce, else OS Login)", ("gce", "azure-vm")),
        "admin_user": Field("invindex", "login user for the SSH key", ("gce", "azure-vm")),
        "user_data": Field("", "startup script text (EC2 user data, GCE startup-script, "
                               "Azure custom data)", _VMS),
        "user_data_file": Field("", "path to the startup script, instead of user_data", _VMS),
        "instance_profile": Field("", "IAM instance profile name; empty: none",
                                  ("fleet", "instance")),
        "service_account": Field("", "service account e-mail; empty: none attached",
                                 ("gce", "dataproc")),
    },
    "network": {
        "vpc_id": Field("", "VPC; empty: the default VPC", ("fleet", "instance", "rds-postgres")),
        "subnet_ids": Field([], "subnets (the fleet spreads over them, RDS's subnet group "
                                "takes them all; EMR and the instance use the first); empty: "
                                "the default VPC's subnets",
                            ("emr", "fleet", "instance", "rds-postgres")),
        "subnetwork": Field("", "GCP subnetwork URL (with vpc_network); empty: a network "
                                "and subnet created for the cluster", ("gce", "dataproc")),
        "vpc_network": Field("", "GCP network URL of `subnetwork` (firewall rules go there)",
                             ("gce", "dataproc")),
        "subnet_cidr": Field("10.10.0.0/24", "range of the subnet created for the cluster",
                             ("gce", "dataproc")),
        "public_ip": Field(False, "give the VM(s) public IPs (AWS: the subnet's setting "
                                  "decides unless true; Dataproc: internal IPs only unless "
                                  "true)", _VMS + ("dataproc",)),
        "ingress": Field([], "inbound rules, tables of protocol (tcp|udp), port, cidr; a "
                             "range wider than a /8 needs public = true on the rule",
                         _VMS + ("rds-postgres",)),
    },
    "scaling": {
        "mode": Field(None, "simple (step rules +/- adjustment on two alarms), target "
                            "(target tracking), managed (EMR managed scaling), none",
                      _SCALED, ("simple", "target", "managed", "none")),
        "min": Field(1, "fewest instances (EMR: task instances; Dataproc: secondary "
                        "workers)", _SCALED),
        "max": Field(4, "most instances", _SCALED),
        "desired": Field(1, "instances at start", _SCALED),
        "metric": Field(None, "metric the alarms watch (fleet: CPUUtilization; EMR: "
                              "YARNMemoryAvailablePercentage)", ("emr", "fleet")),
        "scale_out_threshold": Field(None, "add instances past this (above it when it is the "
                                           "larger threshold, below it otherwise)",
                                     ("emr", "fleet")),
        "scale_in_threshold": Field(None, "remove instances past this",
                                    ("emr", "fleet")),
        "adjustment": Field(1, "instances added (and removed) per alarm", ("emr", "fleet")),
        "cooldown": Field(180, "seconds after a scaling activity before the next one",
                          _SCALED),
        "period": Field(None, "alarm period in seconds (fleet 60; EMR metrics come every "
                              "300)", ("emr", "fleet")),
        "evaluation_periods": Field(None, "consecutive breaching periods that fire an alarm",
                                    ("emr", "fleet")),
        "target": Field(50.0, "target value of the metric in target mode", ("fleet",)),
        "warmup": Field(0, "seconds before a new instance serves load (simulator; target "
                           "tracking warm-up)", _SCALED),
    },
    "emr": {
        "release_label": Field("emr-7.1.0", "EMR release", ("emr",)),
        "applications": Field(["Hadoop", "Spark"], "EMR applications", ("emr",)),
        "log_uri": Field(REQUIRED, "s3:// prefix for cluster logs", ("emr",)),
        "master_type": Field("m5.xlarge", "master instance type", ("emr",)),
        "core_type": Field("m5.xlarge", "core instance type", ("emr",)),
        "core_count": Field(2, "core instances (HDFS; not autoscaled)", ("emr",)),
        "task_type": Field("m5.xlarge", "task instance type (the autoscaled group)", ("emr",)),
        "idle_timeout": Field(3600, "seconds idle before EMR terminates the cluster "
                                    "(0: never)", ("emr",)),
        "install": Field("", "s3:// URI of an invindex wheel you staged "
                             "(invindex-X-py3-none-any.whl) to install on every node; empty: "
                             "install nothing (jobs ship invindex.zip)", ("emr",)),
        "bootstrap_script": Field("", "s3:// script run instead of the pip install",
                                  ("emr",)),
        "service_role": Field("EMR_DefaultRole", "EMR service role", ("emr",)),
        "instance_profile": Field("EMR_EC2_DefaultRole", "EC2 instance profile of the nodes",
                                  ("emr",)),
        "autoscaling_role": Field("EMR_AutoScaling_DefaultRole",
                                  "role EMR automatic scaling uses", ("emr",)),
        "kms_key": Field("", "KMS key ARN: also encrypt EBS and local disks", ("emr",)),
    },
    "database": {
        "engine_version": Field(None, "PostgreSQL version (RDS: 16; Cloud SQL: POSTGRES_16)",
                                _SQL),
        "instance_class": Field(None, "RDS instance class (db.t4g.micro) or Cloud SQL tier "
                                      "(db-custom-1-3840)", _SQL),
        "storage_gb": Field(20, "storage (always encrypted)", _SQL),
        "db_name": Field("invindex", "database created in the instance", _SQL),
        "username": Field("invindex", "RDS master user (its password: created and kept by "
                                      "RDS in Secrets Manager)", ("rds-postgres",)),
        "backup_retention_days": Field(7, "days (RDS) / backups (Cloud SQL) kept", _SQL),
        "deletion_protection": Field(True, "refuse deletes outside `invindex cluster down`",
                                     _DBS),
        "final_snapshot": Field(True, "RDS: `down` keeps a final snapshot", ("rds-postgres",)),
        "private_network": Field("", "Cloud SQL: VPC network URL for a private IP (then no "
                                     "public IP); empty: public IP, reachable only through "
                                     "authorized_networks or the Cloud SQL connectors",
                                 ("cloudsql-postgres",)),
        "authorized_networks": Field([], "Cloud SQL: CIDRs allowed to connect (none by "
                                         "default; wider than a /8 refused)",
                                     ("cloudsql-postgres",)),
        "iam_user": Field("", "Cloud SQL: an IAM user or service account e-mail to create "
                              "as a database login", ("cloudsql-postgres",)),
        "table": Field("", "DynamoDB table name; empty: the cluster name", ("dynamodb",)),
    },
    "dataproc": {
        "image_version": Field("2.2-debian12", "Dataproc image", ("dataproc",)),
        "master_type": Field("n2-standard-4", "master machine type", ("dataproc",)),
        "worker_type": Field("n2-standard-4", "worker machine type", ("dataproc",)),
        "workers": Field(2, "primary workers (fixed; secondary workers autoscale)",
                         ("dataproc",)),
        "init_script": Field("", "gs:// initialization action (e.g. pip install invindex)",
                             ("dataproc",)),
        "idle_delete_ttl": Field(3600, "seconds idle before Dataproc deletes the cluster "
                                       "(0: never)", ("dataproc",)),
        "scale_up_factor": Field(1.0, "fraction of pending YARN memory to add", ("dataproc",)),
        "scale_down_factor": Field(1.0, "fraction of available YARN memory to remove",
                                   ("dataproc",)),
        "graceful_decommission_timeout": Field(3600, "seconds to drain a worker",
                                               ("dataproc",)),
    },
}

_SHAPE_DEFAULTS: Dict[str, Dict[Tuple[str, str], Any]] = {
    "fleet": {("machine", "type"): "t3.micro", ("machine", "image"): "",
              ("scaling", "mode"): "simple", ("scaling", "metric"): "CPUUtilization",
              ("scaling", "scale_out_threshold"): 70.0, ("scaling", "scale_in_threshold"): 40.0,
              ("scaling", "period"): 60, ("scaling", "evaluation_periods"): 2},
    "instance": {("machine", "type"): "t3.micro", ("machine", "image"): ""},
    "emr": {("scaling", "mode"): "simple", ("scaling", "metric"): "YARNMemoryAvailablePercentage",
            ("scaling", "scale_out_threshold"): 15.0, ("scaling", "scale_in_threshold"): 75.0,
            ("scaling", "period"): 300, ("scaling", "evaluation_periods"): 1},
    "gce": {("machine", "type"): "e2-medium",
            ("machine", "image"): "projects/debian-cloud/global/images/family/debian-12"},
    "dataproc": {("scaling", "mode"): "simple", ("scaling", "min"): 0},
    "rds-postgres": {("database", "engine_version"): "16",
                     ("database", "instance_class"): "db.t4g.micro"},
    "cloudsql-postgres": {("database", "engine_version"): "POSTGRES_16",
                          ("database", "instance_class"): "db-custom-1-3840"},
    "azure-vm": {("machine", "type"): "Standard_B2s",
                 ("machine", "image"): "Canonical:ubuntu-24_04-lts:server:latest"},
}
_MODES = {"emr": ("simple", "managed", "none"), "fleet": ("simple", "target", "none"),
          "dataproc": ("simple", "none")}


@dataclass(frozen=True)
class Rule:
    """One inbound rule; ``public`` acknowledges a world-open CIDR."""

    protocol: str
    port: int
    cidr: str
    public: bool = False


@dataclass(frozen=True)
class Spec:
    name: str
    shape: str
    sections: Dict[str, Dict[str, Any]]
    tags: Dict[str, str] = field(default_factory=dict)
    source: str | None = None

    @property
    def provider(self) -> str:
        return SHAPES[self.shape]

    def __getattr__(self, section: str) -> Dict[str, Any]:
        try:
            return self.__dict__["sections"][section]
        except KeyError:
            raise AttributeError(section) from None

    @property
    def ingress(self) -> List[Rule]:
        return [Rule(**r) for r in self.network.get("ingress", [])]

    def all_tags(self) -> Dict[str, str]:
        """The tags (labels) every resource carries: the user's, then ours (ours win)."""
        return {**self.tags, TAG_CLUSTER: self.name, TAG_MANAGED: MANAGED_BY}

    def user_data(self) -> str:
        """The startup script, from the spec or the file it names ("" if none)."""
        machine = self.sections.get("machine", {})
        if machine.get("user_data_file"):
            try:
                return Path(machine["user_data_file"]).read_text()
            except OSError as e:
                raise UsageError(f"machine.user_data_file: {e}") from None
        return machine.get("user_data", "")


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(f"cluster name {name!r}: use a-z, 0-9 and '-', start with a letter, "
                         "end with a letter or digit, at most 40 characters")
    return name


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; errors name the file and the field."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(f"cluster spec not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"cluster spec {path} is not valid TOML: {e}") from None
    try:
        return parse_spec(data, source=str(path))
    except UsageError as e:
        raise UsageError(f"{path}: {e}") from None


def parse_spec(data: Mapping[str, Any], source: str | None = None) -> Spec:
    """Validate a spec given as a dict (as TOML parses it) and fill in every default."""
    data = dict(data)
    name = check_name(data.pop("name", None))
    shape = data.pop("shape", None)
    if shape not in SHAPES:
        raise UsageError(f"shape must be one of {', '.join(SHAPES)}, not {shape!r}")
    tags = data.pop("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise UsageError("[tags] must be a table of strings")
    sections: Dict[str, Dict[str, Any]] = {}
    for section, fields in SCHEMA.items():
        if not section:
            continue
        given = data.pop(section, {})
        if not isinstance(given, dict):
            raise UsageError(f"[{section}] must be a table")
        applies = {k: f for k, f in fields.items() if shape in f.shapes}
        for key in given:
            if key not in fields:
                raise UsageError(f"unknown field {section}.{key}")
            if key not in applies:
                raise UsageError(f"{section}.{key} does not apply to shape {shape}")
        if not applies:
            continue
        values = {}
        for key, f in applies.items():
            default = _SHAPE_DEFAULTS.get(shape, {}).get((section, key), f.default)
            if key in given:
                values[key] = _check_type(f"{section}.{key}", given[key], default, f)
            elif default is REQUIRED:
                raise UsageError(f"{section}.{key} is required for shape {shape}")
            else:
                values[key] = copy.deepcopy(default)
        sections[section] = values
    if data:
        raise UsageError(f"unknown section or field {sorted(data)[0]!r}")
    spec = Spec(name=name, shape=shape, sections=sections, tags=dict(tags), source=source)
    _check_semantics(spec)
    return spec


def _check_type(where: str, value: Any, default: Any, f: Field) -> Any:
    if f.choices and value not in f.choices:
        raise UsageError(f"{where} must be one of {', '.join(f.choices)}, not {value!r}")
    if default is None or default is REQUIRED:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise UsageError(f"{where} must be a {type(default).__name__}, not {value!r}")
    return value


def _check_semantics(spec: Spec) -> None:
    s = spec.sections
    if "ingress" in s.get("network", {}):
        rules = []
        for i, r in enumerate(s["network"]["ingress"]):
            where = f"network.ingress[{i}]"
            if not isinstance(r, dict) or set(r) - {"protocol", "port", "cidr", "public"}:
                raise UsageError(f"{where}: a table of protocol, port, cidr (, public)")
            rule = {"protocol": r.get("protocol", "tcp"), "port": r.get("port"),
                    "cidr": r.get("cidr"), "public": bool(r.get("public", False))}
            if rule["protocol"] not in ("tcp", "udp"):
                raise UsageError(f"{where}.protocol must be tcp or udp")
            if not isinstance(rule["port"], int) or not 0 < rule["port"] < 65536:
                raise UsageError(f"{where}.port must be 1-65535")
            rule["cidr"] = _check_cidr(where, rule)
            rules.append(rule)
        s["network"]["ingress"] = rules
    if "scaling" in s:
        sc = s["scaling"]
        if sc["mode"] not in _MODES[spec.shape]:
            raise UsageError(f"scaling.mode {sc['mode']!r} is not available for shape "
                             f"{spec.shape} (use {', '.join(_MODES[spec.shape])})")
        if not 0 <= sc["min"] <= sc["desired"] <= sc["max"]:
            raise UsageError("scaling: need 0 <= min <= desired <= max")
        if sc["max"] < 1:
            raise UsageError("scaling.max must be at least 1")
        if "scale_out_threshold" in sc and sc["scale_out_threshold"] == sc["scale_in_threshold"]:
            raise UsageError("scaling: scale_out_threshold and scale_in_threshold must differ")
        for key in ("cooldown", "period", "evaluation_periods", "adjustment", "warmup"):
            least = 0 if key in ("warmup", "cooldown") else 1
            if key in sc and (not isinstance(sc[key], int) or sc[key] < least):
                raise UsageError(f"scaling.{key} must be an integer >= {least}")
        if "period" in sc and sc["period"] % 60 and sc["period"] not in (10, 30):
            raise UsageError("scaling.period must be 10, 30 or a multiple of 60 seconds")
    if spec.shape == "emr" and not s["emr"]["log_uri"].startswith("s3://"):
        raise UsageError("emr.log_uri must be an s3:// URI")
    if spec.shape == "emr" and s["emr"]["bootstrap_script"] and not \
            s["emr"]["bootstrap_script"].startswith("s3://"):
        raise UsageError("emr.bootstrap_script must be an s3:// URI")
    if spec.shape == "emr" and s["emr"]["install"] and not _WHEEL.match(s["emr"]["install"]):
        raise UsageError("emr.install must be the s3:// URI of a wheel you staged, such as "
                         "s3://bucket/wheels/invindex-0.4.0-py3-none-any.whl (nothing is "
                         "installed from PyPI by name)")
    if spec.shape in ("gce", "dataproc"):
        _check_gcp_network(s)
    for i, cidr in enumerate(s.get("database", {}).get("authorized_networks", [])):
        s["database"]["authorized_networks"][i] = _check_cidr(
            f"database.authorized_networks[{i}]", {"cidr": cidr, "port": 5432,
                                                   "public": False}, can_be_public=False)
    if spec.shape == "dataproc" and s["dataproc"]["workers"] < 2:
        raise UsageError("dataproc.workers must be at least 2 (Dataproc's standard clusters "
                         "need two primary workers)")
    if spec.shape == "dataproc" and s["dataproc"]["init_script"] and not \
            s["dataproc"]["init_script"].startswith("gs://"):
        raise UsageError("dataproc.init_script must be a gs:// URI")
    if spec.shape == "azure-vm" and not s["machine"]["ssh_public_key"]:
        raise UsageError("machine.ssh_public_key is required for azure-vm (no passwords)")
    if s.get("machine", {}).get("user_data") and s["machine"].get("user_data_file"):
        raise UsageError("machine: give user_data or user_data_file, not both")
    for key in spec.tags:
        if key in (TAG_CLUSTER, TAG_MANAGED):
            raise UsageError(f"tags.{key} is set by invindex")


def _check_gcp_network(s: Dict[str, Dict[str, Any]]) -> None:
    net, gcp = s["network"], s["gcp"]
    if bool(net["subnetwork"]) != bool(net["vpc_network"]):
        raise UsageError("network: give subnetwork and vpc_network together (or neither: "
                         "a network is created for the cluster)")
    try:
        ipaddress.IPv4Network(net["subnet_cidr"])
    except ValueError:
        raise UsageError(f"network.subnet_cidr {net['subnet_cidr']!r} is not an IPv4 "
                         "network such as 10.10.0.0/24") from None
    if not gcp["zone"].startswith(gcp["region"] + "-"):
        raise UsageError(f"gcp.zone {gcp['zone']} is not in gcp.region {gcp['region']}")


def _check_cidr(where: str, rule: Dict[str, Any], can_be_public: bool = True) -> str:
    """The rule's range in canonical form; a range of more than a /8 needs ``public``."""
    cidr = rule["cidr"]
    try:
        if not isinstance(cidr, str) or "/" not in cidr:
            raise ValueError
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise UsageError(f"{where}.cidr must be a CIDR such as 203.0.113.0/24, not "
                         f"{cidr!r}") from None
    if net.prefixlen < WIDEST_PRIVATE_PREFIX and not rule["public"]:
        what = "the whole internet" if net.prefixlen == 0 else f"{net.num_addresses:.3g} " \
            "addresses"
        raise UsageError(f"{where} opens port {rule['port']} to {what} ({net}); "
                         + ("set public = true on the rule if meant" if can_be_public else
                            "ranges wider than a /8 are refused here"))
    return str(net)


def scale_out_above(scaling: Mapping[str, Any]) -> bool:
    """Whether a *high* metric means "add instances" (CPU) rather than a low one (free memory)."""
    return scaling["scale_out_threshold"] > scaling["scale_in_threshold"]


def describe_fields() -> str:
    """Every field, its default and what it does: the reference the README points to."""
    lines = []
    for section, fields in SCHEMA.items():
        lines.append(f"[{section}]" if section else "(top level)")
        for key, f in fields.items():
            default = "required" if f.default is REQUIRED else (
                "per shape" if f.default is None else repr(f.default))
            shapes = "" if f.shapes == _ALL else f"  ({', '.join(f.shapes)})"
            lines.append(f"  {key} = {default}: {f.doc}{shapes}")
    lines.append("[tags]\n  any KEY = \"value\": extra tags / labels on every resource")
    return "\n".join(lines)
