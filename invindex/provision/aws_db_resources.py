"""Handlers for the AWS serving databases: DB subnet groups, RDS instances, DynamoDB tables
(and their point-in-time recovery). Side effects only; the bodies come from ``aws_db``.

``down`` is the explicit delete: it turns deletion protection off first. An RDS instance
leaves a final snapshot (``NAME-final-<time>``) unless ``database.final_snapshot = false``
says otherwise at ``up``; the managed master-password secret goes with the instance.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Tuple

from ..errors import InvindexError
from .aws_common import Aws, error_code
from .aws_db import FINAL_SNAPSHOT_TAG
from .aws_resources import _Handler, _not_ours
from .engine import wait_for
from .plan import Fields, Step, diff_fields


class DbSubnetGroups(_Handler):
    def _rds(self) -> Any:
        return self.aws.client("rds")

    def _groups(self, name: str | None = None) -> List[Dict[str, Any]]:
        try:
            kw = {"DBSubnetGroupName": name} if name else {}
            return self._rds().describe_db_subnet_groups(**kw)["DBSubnetGroups"]
        except Exception as e:
            if error_code(e) == "DBSubnetGroupNotFoundFault":
                return []
            raise

    def _owned(self, group: Dict[str, Any]) -> bool:
        arn = group["DBSubnetGroupArn"]
        return self.aws.owns(self._rds().list_tags_for_resource(ResourceName=arn)["TagList"])

    def find(self, step: Step, params: Dict) -> str | None:
        for group in self._groups(step.name):
            if not self._owned(group):
                raise _not_ours("DB subnet group", step.name)
            return step.name
        return None

    def create(self, step: Step, params: Dict) -> str:
        self._rds().create_db_subnet_group(**params)
        return params["DBSubnetGroupName"]

    def delete(self, rid: str) -> None:
        self._rds().delete_db_subnet_group(DBSubnetGroupName=rid)

    def find_all(self) -> List[str]:
        return [g["DBSubnetGroupName"] for g in self._groups() if self._owned(g)]

    def describe(self, rid: str) -> str:
        (g,) = self._groups(rid) or [{}]
        zones = sorted({s["SubnetAvailabilityZone"]["Name"] for s in g.get("Subnets", [])})
        return f"{rid} subnets in {', '.join(zones)}"


class RdsInstances(_Handler):
    def _rds(self) -> Any:
        return self.aws.client("rds")

    def _get(self, name: str) -> Dict[str, Any] | None:
        try:
            return self._rds().describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        except Exception as e:
            if error_code(e) == "DBInstanceNotFound":
                return None
            raise

    def find(self, step: Step, params: Dict) -> str | None:
        found = self._get(step.name)
        if found is None or found.get("DBInstanceStatus") == "deleting":
            return None
        if not self.aws.owns(found.get("TagList")):
            raise _not_ours("RDS instance", step.name)
        return step.name

    def create(self, step: Step, params: Dict) -> str:
        self._rds().create_db_instance(**params)
        # its endpoint (what `publish` connects to) exists only once it is available
        wait_for(lambda: (self._get(step.name) or {}).get("DBInstanceStatus") == "available",
                 f"RDS instance {step.name} to be available")
        return step.name

    _IN_PLACE = {"DBInstanceClass": "DBInstanceClass", "AllocatedStorage": "AllocatedStorage",
                 "BackupRetentionPeriod": "BackupRetentionPeriod",
                 "DeletionProtection": "DeletionProtection",
                 "EnableIAMDatabaseAuthentication": "IAMDatabaseAuthenticationEnabled"}
    _FIXED = {"Engine": "Engine", "DBName": "DBName", "MasterUsername": "MasterUsername",
              "StorageEncrypted": "StorageEncrypted"}

    def _fields(self, params: Dict, found: Dict, names: Dict[str, str]) -> Fields:
        return diff_fields({k: params[k] for k in names},
                           {k: found.get(v) for k, v in names.items()})

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Class, storage, backups, protection and IAM auth change in place
        (ModifyDBInstance, applied immediately); engine, database, master user and
        encryption only with a new instance."""
        found = self._get(rid) or {}
        return (self._fields(params, found, self._IN_PLACE),
                self._fields(params, found, self._FIXED))

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        self._rds().modify_db_instance(DBInstanceIdentifier=rid, ApplyImmediately=True,
                                       **{k: params[k] for k in fields})
        return rid

    def delete(self, rid: str) -> str | None:
        """Delete the instance; the final snapshot it keeps (billed storage), as a note."""
        found = self._get(rid)
        if found is None:
            return None
        if found.get("DeletionProtection"):
            self._rds().modify_db_instance(DBInstanceIdentifier=rid, DeletionProtection=False,
                                           ApplyImmediately=True)
        tags = {t["Key"]: t["Value"] for t in found.get("TagList", [])}
        snapshot = None
        if tags.get(FINAL_SNAPSHOT_TAG) == "false":
            self._rds().delete_db_instance(DBInstanceIdentifier=rid, SkipFinalSnapshot=True)
        else:
            snapshot = f"{rid}-final-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"
            self._rds().delete_db_instance(DBInstanceIdentifier=rid, SkipFinalSnapshot=False,
                                           FinalDBSnapshotIdentifier=snapshot)
        wait_for(lambda: self._get(rid) is None, f"RDS instance {rid} to be deleted")
        if snapshot is None:
            return None
        return (f"kept final snapshot {snapshot} (database.final_snapshot = true; billed as "
                f"storage until deleted: aws rds delete-db-snapshot --db-snapshot-identifier "
                f"{snapshot} --region {self.aws.region})")

    def find_all(self) -> List[str]:
        pages = self._rds().get_paginator("describe_db_instances").paginate()
        return [i["DBInstanceIdentifier"] for page in pages for i in page["DBInstances"]
                if self.aws.owns(i.get("TagList"))]

    def describe(self, rid: str) -> str:
        i = self._get(rid) or {}
        end = i.get("Endpoint") or {}
        return (f"{rid} {i.get('DBInstanceStatus')} {i.get('Engine')} "
                f"{i.get('EngineVersion')} {i.get('DBInstanceClass')} "
                f"{end.get('Address', '-')}:{end.get('Port', '-')}")

    def endpoint(self, rid: str) -> Dict[str, Any]:
        i = self._get(rid)
        if i is None:
            raise InvindexError(f"RDS instance {rid} is gone")
        return {"host": i["Endpoint"]["Address"], "port": i["Endpoint"]["Port"],
                "user": i["MasterUsername"], "db": i.get("DBName", ""),
                "secret": (i.get("MasterUserSecret") or {}).get("SecretArn", "")}


class DynamoTables(_Handler):
    def _ddb(self) -> Any:
        return self.aws.client("dynamodb")

    def _get(self, name: str) -> Dict[str, Any] | None:
        try:
            return self._ddb().describe_table(TableName=name)["Table"]
        except Exception as e:
            if error_code(e) == "ResourceNotFoundException":
                return None
            raise

    def _owned(self, table: Dict[str, Any]) -> bool:
        return self.aws.owns(self._ddb().list_tags_of_resource(
            ResourceArn=table["TableArn"]).get("Tags"))

    def find(self, step: Step, params: Dict) -> str | None:
        found = self._get(step.name)
        if found is None or found.get("TableStatus") == "DELETING":
            return None
        if not self._owned(found):
            raise _not_ours("DynamoDB table", step.name)
        return step.name

    def create(self, step: Step, params: Dict) -> str:
        self._ddb().create_table(**params)
        wait_for(lambda: (self._get(step.name) or {}).get("TableStatus") == "ACTIVE",
                 f"DynamoDB table {step.name} to be active")
        return step.name

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Deletion protection changes in place (UpdateTable); the key schema never does."""
        t = self._get(rid) or {}
        update = diff_fields({"DeletionProtectionEnabled": params["DeletionProtectionEnabled"]},
                             t)
        return update, diff_fields({"KeySchema": params["KeySchema"]}, t)

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        self._ddb().update_table(TableName=rid,
                                 DeletionProtectionEnabled=params["DeletionProtectionEnabled"])
        return rid

    def delete(self, rid: str) -> None:
        if self._get(rid) is None:
            return
        self._ddb().update_table(TableName=rid, DeletionProtectionEnabled=False)
        self._ddb().delete_table(TableName=rid)
        wait_for(lambda: self._get(rid) is None, f"DynamoDB table {rid} to be deleted")

    def find_all(self) -> List[str]:
        names: List[str] = []
        for page in self._ddb().get_paginator("list_tables").paginate():
            names += page["TableNames"]
        found = [self._get(n) for n in names]
        return [t["TableName"] for t in found if t is not None and self._owned(t)]

    def describe(self, rid: str) -> str:
        t = self._get(rid) or {}
        billing = (t.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
        sse = (t.get("SSEDescription") or {}).get("Status", "-")
        return f"{rid} {t.get('TableStatus')} {billing}, encryption {sse}, " \
               f"{t.get('ItemCount', 0)} items"


class DynamoBackups(_Handler):
    """Point-in-time recovery: a setting of its table (goes with it; never listed)."""

    def _ddb(self) -> Any:
        return self.aws.client("dynamodb")

    def find(self, step: Step, params: Dict) -> str | None:
        desc = self._ddb().describe_continuous_backups(TableName=params["TableName"])
        pitr = desc["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        return params["TableName"] if pitr.get("PointInTimeRecoveryStatus") == "ENABLED" \
            else None

    def create(self, step: Step, params: Dict) -> str:
        self._ddb().update_continuous_backups(**params)
        return params["TableName"]

    def delete(self, rid: str) -> None:
        pass  # rolled back with its table

    def find_all(self) -> List[str]:
        return []


def db_handlers(aws: Aws) -> Dict[str, Any]:
    return {"db_subnet_group": DbSubnetGroups(aws), "db_instance": RdsInstances(aws),
            "dynamodb_table": DynamoTables(aws), "dynamodb_backups": DynamoBackups(aws)}
