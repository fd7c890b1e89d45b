"""The serving databases: RDS for PostgreSQL and DynamoDB against moto's server (RDS,
Secrets Manager, DynamoDB), Cloud SQL through Google's API client against the recording
local server (``_fake_cloud.FakeGcp``; no emulator exists, so what is asserted is the
requests, not that Google would accept them). Each comes up with its secure defaults,
prints the URI ``invindex publish`` takes (never a password), and goes down to zero."""

from __future__ import annotations

import json

import boto3
import pytest
from _specs import write_spec

from invindex.cli import main

RDS = """
    name = "t-db"
    shape = "rds-postgres"
    [aws]
    region = "us-east-1"
    [network]
    ingress = [{ protocol = "tcp", port = 5432, cidr = "10.1.0.0/16" }]
"""


def test_rds_postgres_up_prints_the_uri_without_a_password_and_goes_down(aws, tmp_path,
                                                                        capsys):
    """RDS on moto: private, encrypted gp3 storage, the master password created by RDS in
    Secrets Manager (invindex never reads it), IAM authentication, 7 days of backups,
    deletion protection, a subnet group over two zones and a security group with only the
    spec's 5432 rule. `up` prints postgresql://invindex@HOST:5432/invindex with
    sslmode=verify-full and the secret's ARN, never the password; a second `up` creates
    nothing; `down` turns deletion protection off, keeps a final snapshot and leaves no
    tagged instance, subnet group or security group."""
    spec = write_spec(tmp_path, RDS)
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    out = capsys.readouterr()
    rds = boto3.client("rds", region_name="us-east-1")
    (db,) = rds.describe_db_instances(DBInstanceIdentifier="t-db")["DBInstances"]
    assert (db["Engine"], db["StorageEncrypted"], db["PubliclyAccessible"]) == \
        ("postgres", True, False)
    assert db["IAMDatabaseAuthenticationEnabled"] is True
    assert (db["BackupRetentionPeriod"], db["DeletionProtection"]) == (7, True)
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == "t-db-subnets"
    assert len({s["SubnetAvailabilityZone"]["Name"] for s in db["DBSubnetGroup"]["Subnets"]}) \
        >= 2
    secret_arn = db["MasterUserSecret"]["SecretArn"]
    secret = boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(
        SecretId=secret_arn)
    password = json.loads(secret["SecretString"])["password"]
    host = db["Endpoint"]["Address"]
    assert f"uri: postgresql://invindex@{host}:5432/invindex?sslmode=verify-full" in out.out
    assert secret_arn in out.out
    assert password not in out.out + out.err
    ec2 = boto3.client("ec2", region_name="us-east-1")
    (sg,) = ec2.describe_security_groups(GroupIds=[db["VpcSecurityGroups"][0][
        "VpcSecurityGroupId"]])["SecurityGroups"]
    assert [(p["FromPort"], r["CidrIp"]) for p in sg["IpPermissions"]
            for r in p["IpRanges"]] == [(5432, "10.1.0.0/16")]

    assert main(["-q", "cluster", "up", str(spec)]) == 0
    assert "0 created, 3 already there" in capsys.readouterr().out

    assert main(["-q", "cluster", "down", "t-db"]) == 0
    assert rds.describe_db_instances()["DBInstances"] == []
    assert [g for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]
            if g["DBSubnetGroupName"] == "t-db-subnets"] == []
    assert ec2.describe_security_groups(Filters=[
        {"Name": "tag:invindex-cluster", "Values": ["t-db"]}])["SecurityGroups"] == []
    snaps = rds.describe_db_snapshots()["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"].startswith("t-db-final-") for s in snaps] == [True]


def test_rds_refuses_a_world_open_rule(aws, tmp_path):
    bad = RDS.replace("10.1.0.0/16", "0.0.0.0/0")
    assert main(["cluster", "plan", str(write_spec(tmp_path, bad))]) == 2


def test_dynamodb_table_on_demand_encrypted_with_pitr(aws, tmp_path, capsys):
    """DynamoDB on moto: the store's key schema (term S / chunk N), on-demand billing, KMS
    encryption, point-in-time recovery, deletion protection, tags; the URI
    dynamodb://TABLE?region=R; idempotent; `down` (protection off first) deletes it."""
    spec = write_spec(tmp_path, """
        name = "t-table"
        shape = "dynamodb"
        [aws]
        region = "us-east-1"
    """)
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    assert "uri: dynamodb://t-table?region=us-east-1" in capsys.readouterr().out
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    table = ddb.describe_table(TableName="t-table")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "term", "KeyType": "HASH"},
                                  {"AttributeName": "chunk", "KeyType": "RANGE"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["DeletionProtectionEnabled"] is True
    backups = ddb.describe_continuous_backups(TableName="t-table")["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert {"Key": "invindex-cluster", "Value": "t-table"} in tags

    assert main(["-q", "cluster", "up", str(spec)]) == 0
    assert "0 created, 2 already there" in capsys.readouterr().out
    assert main(["-q", "cluster", "down", str(spec)]) == 0
    assert ddb.list_tables()["TableNames"] == []


@pytest.fixture
def gcp(state_dir):
    pytest.importorskip("googleapiclient.discovery")
    from _fake_cloud import FakeGcp

    server = FakeGcp().start()
    yield server
    server.stop()


def test_cloudsql_postgres_requests_and_down(gcp, tmp_path, capsys, monkeypatch):
    """Cloud SQL through googleapiclient against the local server: no authorized network,
    public IP only for the Cloud SQL connectors (no private network named), TLS only, the
    IAM authentication flag, backups with point-in-time recovery, labels, deletion
    protection; then the database and the IAM user. `up` prints the URI with the IAM
    user's role and the connection name; `down` turns deletion protection off (the API
    refuses to delete otherwise) and deletes the instance. The CLI finds credentials through
    `gcp.default_credentials`, replaced here by anonymous ones (no Google account)."""
    from google.auth.credentials import AnonymousCredentials

    import invindex.provision.gcp as gcp_module

    monkeypatch.setattr(gcp_module, "default_credentials",
                        lambda: (AnonymousCredentials(), "proj"))
    spec = write_spec(tmp_path, f"""
        name = "g-sql"
        shape = "cloudsql-postgres"
        [gcp]
        project = "proj"
        region = "us-central1"
        zone = "us-central1-a"
        endpoint = "{gcp.url}"
        [database]
        iam_user = "indexer@proj.iam.gserviceaccount.com"
    """)
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    out = capsys.readouterr().out
    (inst,) = gcp.sent("POST", "^/v1/projects/proj/instances$")
    settings = inst["settings"]
    assert settings["ipConfiguration"] == {"ipv4Enabled": True, "sslMode": "ENCRYPTED_ONLY",
                                           "authorizedNetworks": []}
    assert settings["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    assert {"name": "cloudsql.iam_authentication", "value": "on"} in settings["databaseFlags"]
    assert settings["userLabels"]["invindex-cluster"] == "g-sql"
    assert settings["deletionProtectionEnabled"] is True
    assert gcp.sent("POST", "^/v1/projects/proj/instances/g-sql/databases$") == [
        {"name": "invindex", "instance": "g-sql"}]
    assert gcp.sent("POST", "^/v1/projects/proj/instances/g-sql/users$") == [
        {"name": "indexer@proj.iam.gserviceaccount.com", "type": "CLOUD_IAM_SERVICE_ACCOUNT"}]
    assert "uri: postgresql://indexer@proj.iam@203.0.113.5:5432/invindex?sslmode=require" \
        not in out  # the role is URL-quoted
    assert "uri: postgresql://indexer%40proj.iam@203.0.113.5:5432/invindex?sslmode=require" \
        in out
    assert "proj:us-central1:g-sql" in out

    assert main(["-q", "cluster", "up", str(spec)]) == 0
    assert "0 created, 3 already there" in capsys.readouterr().out
    assert main(["-q", "cluster", "down", str(spec), "--yes"]) == 0
    assert gcp.sent("PATCH", "^/v1/projects/proj/instances/g-sql$") == [
        {"settings": {"deletionProtectionEnabled": False}}]
    assert gcp.store == {}


def test_cloudsql_private_ip_and_narrow_authorized_networks_only(gcp, tmp_path):
    from invindex.errors import UsageError
    from invindex.provision.spec import parse_spec

    base = {"name": "g-sql", "shape": "cloudsql-postgres", "gcp": {"project": "proj"}}
    with pytest.raises(UsageError, match="public = true|wider"):
        parse_spec(dict(base, database={"authorized_networks": ["0.0.0.0/0"]}))
    from invindex.provision.gcp_sql import cloudsql_steps

    spec = parse_spec(dict(base, database={
        "private_network": "projects/proj/global/networks/vpc"}))
    body = cloudsql_steps(spec, {"region": "us-central1"})[0].params
    assert body["settings"]["ipConfiguration"]["ipv4Enabled"] is False
    assert body["settings"]["ipConfiguration"]["privateNetwork"] == \
        "projects/proj/global/networks/vpc"


def test_rds_class_and_dynamodb_protection_update_in_place_engine_is_refused(aws, tmp_path,
                                                                           capsys):
    """ModifyDBInstance changes the class (and backups) in place; UpdateTable turns deletion
    protection off; a new database name would need a new instance: refused by name."""
    spec = write_spec(tmp_path, RDS)
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    bigger = write_spec(tmp_path, RDS + '    [database]\n    instance_class = "db.t4g.small"\n'
                                   "    backup_retention_days = 14\n", "bigger.toml")
    capsys.readouterr()
    assert main(["cluster", "plan", str(bigger)]) == 0
    assert "update    db_instance t-db: DBInstanceClass db.t4g.micro -> db.t4g.small, " \
           "BackupRetentionPeriod 7 -> 14" in capsys.readouterr().out
    assert main(["-q", "cluster", "up", str(bigger)]) == 0
    (db,) = boto3.client("rds", region_name="us-east-1").describe_db_instances(
        DBInstanceIdentifier="t-db")["DBInstances"]
    assert (db["DBInstanceClass"], db["BackupRetentionPeriod"]) == ("db.t4g.small", 14)
    renamed = write_spec(tmp_path, RDS + '    [database]\n    db_name = "other"\n', "renamed.toml")
    assert main(["cluster", "up", str(renamed)]) == 1
    assert "db_instance t-db (DBName invindex -> other)" in capsys.readouterr().err

    table = write_spec(tmp_path, '\n    name = "t-table"\n    shape = "dynamodb"\n    [aws]\n'
                            '    region = "us-east-1"\n', "table.toml")
    assert main(["-q", "cluster", "up", str(table)]) == 0
    loose = write_spec(tmp_path, table.read_text() + "[database]\ndeletion_protection = false\n",
                  "loose.toml")
    assert main(["-q", "cluster", "up", str(loose)]) == 0
    assert "1 updated" in capsys.readouterr().out
    assert boto3.client("dynamodb", region_name="us-east-1").describe_table(
        TableName="t-table")["Table"]["DeletionProtectionEnabled"] is False


def sql_spec(server, monkeypatch) -> str:
    """A Cloud SQL spec's text up to its ``[database]`` table, against ``server``; the CLI
    finds anonymous credentials (no Google account)."""
    from google.auth.credentials import AnonymousCredentials

    import invindex.provision.gcp as gcp_module

    monkeypatch.setattr(gcp_module, "default_credentials",
                        lambda: (AnonymousCredentials(), "proj"))
    return f"""
        name = "g-sql"
        shape = "cloudsql-postgres"
        [gcp]
        project = "proj"
        endpoint = "{server.url}"
        [database]
"""


def test_cloudsql_settings_update_in_place_version_is_refused(gcp, tmp_path, capsys,
                                                               monkeypatch):
    """A bigger tier is an instances.patch of that setting alone; a new major version
    would need a new instance: refused by name, nothing sent."""
    text = sql_spec(gcp, monkeypatch) + "    "  # the fields below are added at this indent
    assert main(["-q", "cluster", "up", str(write_spec(tmp_path, text))]) == 0
    bigger = write_spec(tmp_path, text + '    instance_class = "db-custom-2-7680"\n', "big.toml")
    assert main(["-q", "cluster", "up", str(bigger)]) == 0
    assert "1 updated" in capsys.readouterr().out
    assert gcp.sent("PATCH", "^/v1/projects/proj/instances/g-sql$") == [
        {"settings": {"tier": "db-custom-2-7680"}}]
    newer = write_spec(tmp_path, text + '    engine_version = "POSTGRES_17"\n', "new.toml")
    assert main(["cluster", "up", str(newer)]) == 1
    assert "sql_instance g-sql (databaseVersion POSTGRES_16 -> POSTGRES_17)" in \
        capsys.readouterr().err


def test_cloudsql_edits_drop_the_old_login_and_database_and_relabel(gcp, tmp_path, capsys,
                                                                    monkeypatch):
    """Against the local server: a spec that names another IAM login and another database
    (and a new tag) makes `plan` show the old login and database as `remove` and the
    instance's labels as an update; `up --yes` deletes them (an IAM login the spec no longer
    names must not keep its access) and patches the labels. Only what an earlier `up`
    recorded is removed: a database made by hand on the instance is never touched."""
    text = sql_spec(gcp, monkeypatch) + """
        iam_user = "old@proj.iam.gserviceaccount.com"
    """
    assert main(["-q", "cluster", "up", str(write_spec(tmp_path, text))]) == 0
    base = "sql/proj/instances/g-sql"
    gcp.store[f"{base}/databases/manual"] = {"name": "manual", "instance": "g-sql"}
    edited = write_spec(tmp_path, text.replace("old@", "new@") + '    db_name = "idx2"\n'
                   "    [tags]\n    team = \"search\"\n", "edited.toml")
    capsys.readouterr()
    assert main(["cluster", "plan", str(edited), "--format", "json"]) == 0
    planned = {(r["action"], r["kind"], r["name"], tuple(r["fields"])) for r in json.loads(
        capsys.readouterr().out)["resources"] if r["action"] != "unchanged"}
    assert planned == {
        ("update", "sql_instance", "g-sql", ("settings.userLabels.team",)),
        ("create", "sql_database", "idx2", ()),
        ("create", "sql_user", "new@proj.iam.gserviceaccount.com", ()),
        ("remove", "sql_user", "g-sql/old@proj.iam.gserviceaccount.com", ()),
        ("remove", "sql_database", "g-sql/invindex", ())}
    assert main(["-q", "cluster", "up", "--yes", str(edited)]) == 0
    assert sorted(k.split(base + "/", 1)[1] for k in gcp.store if k.startswith(base + "/")) \
        == ["databases/idx2", "databases/manual", "users/new@proj.iam.gserviceaccount.com"]
    assert gcp.store[base]["settings"]["userLabels"]["team"] == "search"
    capsys.readouterr()
    assert main(["cluster", "plan", str(edited), "--format", "json"]) == 0
    assert {r["action"] for r in json.loads(capsys.readouterr().out)["resources"]} == {
        "unchanged", "exists"}
