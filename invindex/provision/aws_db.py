"""Pure request builders for the serving databases on AWS: RDS for PostgreSQL and a
DynamoDB table, the stores ``invindex publish`` writes to.

RDS: private (no public address), storage encrypted, the master password created and kept
by RDS in Secrets Manager (``ManageMasterUserPassword``: invindex never sees it), IAM
database authentication, automated backups, deletion protection, a subnet group over the
spec's (or the default VPC's) subnets and a security group with only ``network.ingress``.
DynamoDB: on-demand, encrypted with KMS, point-in-time recovery, deletion protection; the key
schema of the store (partition key the term, sort key a chunk number).
"""

from __future__ import annotations

from typing import Any, Dict, List

from ..errors import InvindexError
from .aws_common import tag_list
from .aws_instance import security_group_step
from .plan import Ref, Step
from .spec import Spec

POSTGRES_PORT = 5432
# An instance tagged with this = "false" goes without a final snapshot (`down` reads it).
FINAL_SNAPSHOT_TAG = "invindex-final-snapshot"
# The store's key schema (issue 13): one item per (term, chunk of its postings).
DYNAMODB_KEYS = (("term", "S", "HASH"), ("chunk", "N", "RANGE"))


def rds_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    db, name = spec.database, spec.name
    zones = {zone for _, zone in ctx["subnets"]}
    if len(zones) < 2:
        raise InvindexError("RDS needs subnets in at least two availability zones: set "
                            "network.subnet_ids")
    tags = tag_list(spec.all_tags())
    extra = [] if db["final_snapshot"] else [{"Key": FINAL_SNAPSHOT_TAG, "Value": "false"}]
    params: Dict[str, Any] = {
        "DBInstanceIdentifier": name, "Engine": "postgres",
        "EngineVersion": db["engine_version"], "DBInstanceClass": db["instance_class"],
        "AllocatedStorage": db["storage_gb"], "StorageType": "gp3", "StorageEncrypted": True,
        "DBName": db["db_name"], "MasterUsername": db["username"],
        "ManageMasterUserPassword": True, "EnableIAMDatabaseAuthentication": True,
        "BackupRetentionPeriod": db["backup_retention_days"],
        "DeletionProtection": db["deletion_protection"], "PubliclyAccessible": False,
        "DBSubnetGroupName": Ref("db_subnet_group"),
        "VpcSecurityGroupIds": [Ref("security_group")],
        "CopyTagsToSnapshot": True, "AutoMinorVersionUpgrade": True, "Port": POSTGRES_PORT,
        "Tags": tags + extra,
    }
    return [
        security_group_step(spec, ctx, peers=False),
        Step("db_subnet_group", f"{name}-subnets", {
            "DBSubnetGroupName": f"{name}-subnets",
            "DBSubnetGroupDescription": f"invindex cluster {name}",
            "SubnetIds": [s for s, _ in ctx["subnets"]], "Tags": tags},
            summary=f"{len(ctx['subnets'])} subnets in {', '.join(sorted(zones))}"),
        Step("db_instance", name, params,
             summary=f"PostgreSQL {db['engine_version']} {db['instance_class']}, "
                     f"{db['storage_gb']} GB encrypted, private, password in Secrets Manager, "
                     f"IAM auth, backups {db['backup_retention_days']} d, deletion protection "
                     f"{'on' if db['deletion_protection'] else 'off'}"),
    ]


def table_name(spec: Spec) -> str:
    return spec.database["table"] or spec.name


def dynamodb_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    table = table_name(spec)
    return [
        Step("dynamodb_table", table, {
            "TableName": table,
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t}
                                     for n, t, _ in DYNAMODB_KEYS],
            "KeySchema": [{"AttributeName": n, "KeyType": k} for n, _, k in DYNAMODB_KEYS],
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
            "DeletionProtectionEnabled": spec.database["deletion_protection"],
            "Tags": tag_list(spec.all_tags())},
            summary="on-demand, KMS-encrypted, keys term (S) + chunk (N)"),
        Step("dynamodb_backups", f"{table}-pitr", {
            "TableName": Ref("dynamodb_table"),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}},
            summary="point-in-time recovery"),
    ]
