"""Cloud SQL for PostgreSQL, the GCP serving database: request builders (pure) and handlers
through Google's API client (``googleapiclient``, the Cloud SQL Admin API v1 over REST, with
its bundled discovery document: no network call to build it).

Secure defaults: no authorized network unless listed (a range wider than a /8 refused), a
private IP only when ``database.private_network`` names the VPC (then no public IP at
all), encrypted connections only, IAM database authentication (the
``cloudsql.iam_authentication`` flag, and an IAM user when ``database.iam_user`` is given),
automated backups with point-in-time recovery, deletion protection (``down`` turns it off).
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Tuple

from ..errors import InvindexError
from .deps import need
from .gcp_calls import found_ours, get_or_none
from .gcp_steps import labels
from .plan import Fields, Step, diff_fields
from .spec import Spec

TIMEOUT = 1800.0
POLL = 2.0


def iam_user_type(user: str) -> str:
    return "CLOUD_IAM_SERVICE_ACCOUNT" if user.endswith(".gserviceaccount.com") \
        else "CLOUD_IAM_USER"


def database_user(user: str) -> str:
    """The PostgreSQL role name Cloud SQL gives an IAM principal."""
    return user.removesuffix(".gserviceaccount.com")


def cloudsql_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    db, name = spec.database, spec.name
    ip: Dict[str, Any] = {
        "ipv4Enabled": not db["private_network"], "sslMode": "ENCRYPTED_ONLY",
        "authorizedNetworks": [{"value": cidr, "name": f"{name}-{i}"}
                               for i, cidr in enumerate(db["authorized_networks"])]}
    if db["private_network"]:
        ip["privateNetwork"] = db["private_network"]
    body = {
        "name": name, "databaseVersion": db["engine_version"], "region": ctx["region"],
        "settings": {
            "tier": db["instance_class"], "dataDiskSizeGb": str(db["storage_gb"]),
            "dataDiskType": "PD_SSD", "ipConfiguration": ip,
            "backupConfiguration": {
                "enabled": True, "pointInTimeRecoveryEnabled": True,
                "backupRetentionSettings": {"retainedBackups": db["backup_retention_days"],
                                            "retentionUnit": "COUNT"}},
            "databaseFlags": [{"name": "cloudsql.iam_authentication", "value": "on"}],
            "userLabels": labels(spec),
            "deletionProtectionEnabled": db["deletion_protection"]},
    }
    where = "private IP in " + db["private_network"] if db["private_network"] else (
        "public IP, authorized: " + (", ".join(db["authorized_networks"]) or "none "
                                     "(Cloud SQL connectors / Auth Proxy only)"))
    steps = [
        Step("sql_instance", name, body,
             summary=f"{db['engine_version']} {db['instance_class']}, {db['storage_gb']} GB, "
                     f"{where}, TLS only, IAM auth, backups + PITR, deletion protection "
                     f"{'on' if db['deletion_protection'] else 'off'}"),
        Step("sql_database", db["db_name"], {"name": db["db_name"], "instance": name},
             summary=f"database {db['db_name']}"),
    ]
    if db["iam_user"]:
        steps.append(Step("sql_user", db["iam_user"], {
            "name": db["iam_user"], "type": iam_user_type(db["iam_user"])},
            summary=f"IAM login for {db['iam_user']}"))
    return steps


class _SqlAdmin:
    """The Cloud SQL Admin API client and its long-running operations."""

    def __init__(self, gcp: Any) -> None:
        discovery = need("googleapiclient.discovery", "Cloud SQL provisioning")
        options = {"api_endpoint": gcp.endpoint} if gcp.endpoint else None
        self.api = discovery.build("sqladmin", "v1", credentials=gcp.credentials,
                                   client_options=options, static_discovery=True,
                                   cache_discovery=False)
        self.gcp = gcp

    def run(self, request: Any, what: str) -> None:
        """Send a request that starts an operation, and wait for it to finish."""
        self.wait(request.execute(), what)

    def wait(self, operation: Dict[str, Any], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while operation.get("status") != "DONE":
            if time.monotonic() > deadline:
                raise InvindexError(f"timed out waiting for {what}")
            time.sleep(POLL)
            operation = self.api.operations().get(project=self.gcp.project,
                                                  operation=operation["name"]).execute()
        if operation.get("error"):
            errors = operation["error"].get("errors") or [{}]
            raise InvindexError(f"{what}: {errors[0].get('message', operation['error'])}")


class SqlInstances:
    def __init__(self, gcp: Any) -> None:
        self.gcp, self.sql = gcp, _SqlAdmin(gcp)

    def _get(self, name: str) -> Dict[str, Any] | None:
        return get_or_none(self.sql.api.instances().get(project=self.gcp.project,
                                                        instance=name).execute)

    def _ours(self, instance: Dict[str, Any]) -> bool:
        return self.gcp.owns(instance.get("settings", {}).get("userLabels"))

    def find(self, step: Step, params: Dict) -> str | None:
        ours = found_ours(self._get(step.name), self._ours, "Cloud SQL instance", step.name)
        return step.name if ours else None

    def create(self, step: Step, params: Dict) -> str:
        self.sql.run(self.sql.api.instances().insert(project=self.gcp.project, body=params),
                     f"Cloud SQL instance {step.name} to be created")
        return step.name

    _IN_PLACE = ("tier", "dataDiskSizeGb", "ipConfiguration", "backupConfiguration",
                 "databaseFlags", "deletionProtectionEnabled", "userLabels")

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Settings and labels change in place (instances.patch); the version, region and
        disk type do not, nor does the disk shrink."""
        found = self._get(rid) or {}
        want = params["settings"]
        update = diff_fields({"settings": {k: want[k] for k in self._IN_PLACE}}, found)
        replace = diff_fields({k: params[k] for k in ("databaseVersion", "region")}, found)
        replace.update(diff_fields({"settings": {"dataDiskType": want["dataDiskType"]}},
                                   found))
        have_disk = found.get("settings", {}).get("dataDiskSizeGb")
        if have_disk and int(want["dataDiskSizeGb"]) < int(have_disk):
            replace["settings.dataDiskSizeGb"] = update.pop("settings.dataDiskSizeGb")
        return update, replace

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        changed = {k.split(".")[1].split("[")[0] for k in fields}
        self.sql.run(self.sql.api.instances().patch(
            project=self.gcp.project, instance=rid,
            body={"settings": {k: params["settings"][k] for k in sorted(changed)}}),
            f"Cloud SQL instance {rid} to be updated")
        return rid

    def delete(self, rid: str) -> None:
        found = self._get(rid)
        if found is None:
            return
        if found.get("settings", {}).get("deletionProtectionEnabled"):
            self.sql.run(self.sql.api.instances().patch(
                project=self.gcp.project, instance=rid,
                body={"settings": {"deletionProtectionEnabled": False}}),
                f"deletion protection of {rid} to be off")
        self.sql.run(self.sql.api.instances().delete(project=self.gcp.project, instance=rid),
                     f"Cloud SQL instance {rid} to be deleted")

    def find_all(self) -> List[str]:
        found = self.sql.api.instances().list(project=self.gcp.project).execute()
        return [i["name"] for i in found.get("items", []) if self._ours(i)]

    def describe(self, rid: str) -> str:
        i = self._get(rid) or {}
        ips = " ".join(f"{a.get('type', '').lower()} {a.get('ipAddress')}"
                       for a in i.get("ipAddresses", []))
        return f"{rid} {i.get('state')} {i.get('databaseVersion')} {ips}".rstrip()

    def endpoint(self, rid: str) -> Dict[str, Any]:
        i = self._get(rid) or {}
        addresses = {a.get("type"): a.get("ipAddress") for a in i.get("ipAddresses", [])}
        return {"host": addresses.get("PRIVATE") or addresses.get("PRIMARY") or "",
                "connection": i.get("connectionName", "")}


class _InstanceChild:
    """Databases and users live and die with their instance (never swept separately)."""

    collection = ""
    key = ""

    def __init__(self, gcp: Any) -> None:
        self.gcp, self.sql = gcp, _SqlAdmin(gcp)

    def _api(self) -> Any:
        return getattr(self.sql.api, self.collection)()

    def find(self, step: Step, params: Dict) -> str | None:
        found = get_or_none(self._api().get(project=self.gcp.project,
                                             instance=self.gcp.cluster,
                                             **{self.key: step.name}).execute)
        return None if found is None else f"{self.gcp.cluster}/{step.name}"

    def create(self, step: Step, params: Dict) -> str:
        self.sql.run(self._api().insert(project=self.gcp.project, instance=self.gcp.cluster,
                                        body=params), f"{self.collection[:-1]} {step.name}")
        return f"{self.gcp.cluster}/{step.name}"

    def delete(self, rid: str) -> None:
        self.sql.run(self._api().delete(project=self.gcp.project, instance=self.gcp.cluster,
                                        **{self.key: rid.split("/", 1)[1]}),
                     f"deleting {rid}")

    def find_all(self) -> List[str]:
        """Those on the cluster's instance that invindex could have made (`up` deletes
        one only when an earlier `up` recorded it; `down` deletes the instance)."""
        found = get_or_none(self._api().list(project=self.gcp.project,
                                             instance=self.gcp.cluster).execute) or {}
        return [f"{self.gcp.cluster}/{i['name']}" for i in found.get("items", [])
                if self.made_here(i)]

    def made_here(self, item: Dict[str, Any]) -> bool:
        return True

    def describe(self, rid: str) -> str:
        return rid


class SqlDatabases(_InstanceChild):
    collection, key = "databases", "database"

    def made_here(self, item: Dict[str, Any]) -> bool:
        return item.get("name") != "postgres"  # Cloud SQL's own


class SqlUsers(_InstanceChild):
    collection, key = "users", "name"

    def made_here(self, item: Dict[str, Any]) -> bool:
        return item.get("type", "").startswith("CLOUD_IAM")  # not the built-in postgres
