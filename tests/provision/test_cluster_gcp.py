"""GCE and Dataproc through the real google-cloud-compute / google-cloud-dataproc clients
(REST transport) pointed at a local HTTP server (``_fake_cloud.FakeGcp``; no emulator
exists). The tests assert on the requests the libraries send and on the order of
create/delete calls; whether Google would accept them is not tested here."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from _fake_cloud import FakeGcp
from google.auth.credentials import AnonymousCredentials

from invindex.errors import InvindexError
from invindex.provision import api
from invindex.provision.spec import load_spec
from tests.conftest import needs

pytestmark = needs("google.cloud.compute_v1", "google.cloud.dataproc_v1")

ZONE = "/compute/v1/projects/proj/zones/us-central1-a/instances"
FIREWALLS = "/compute/v1/projects/proj/global/firewalls"
REGION = "/v1/projects/proj/regions/us-central1"


@pytest.fixture
def gcp(state_dir):
    server = FakeGcp().start()
    yield server
    server.stop()


def spec_for(tmp_path, server, shape: str, extra: str = ""):
    path = tmp_path / f"{shape}.toml"
    path.write_text(textwrap.dedent(f"""
        name = "g-{shape}"
        shape = "{shape}"
        [gcp]
        project = "proj"
        region = "us-central1"
        zone = "us-central1-a"
        endpoint = "{server.url}"
    """) + textwrap.dedent(extra))
    return load_spec(path)


def quiet(line: str) -> None:
    pass


def test_gce_instance_requests_secure_defaults_idempotent_and_down(gcp, tmp_path):
    """Against the local fake server (not Google): the cluster gets its own custom-mode
    network and subnet (never the project's `default` network, whose stock rules open SSH,
    RDP and ICMP to the world); the instance insert carries the labels, Shielded VM, no
    external IP, OS Login and the startup script, on that subnet; the firewall rule opens
    only the spec's port to the spec's range, aimed at the instance's network tag."""
    spec = spec_for(tmp_path, gcp, "gce", """
        [machine]
        user_data = "#!/bin/sh\\necho hi\\n"
        [network]
        ingress = [{ protocol = "tcp", port = 22, cidr = "198.51.100.0/24" }]
    """)
    creds = AnonymousCredentials()
    out = api.up(spec, echo=quiet, credentials=creds)
    assert [k for k, _, _ in out.created] == ["gce_network", "gce_subnetwork", "gce_firewall",
                                              "gce_instance"]
    (net,) = gcp.sent("POST", "^/compute/v1/projects/proj/global/networks$")
    assert (net["name"], net["autoCreateSubnetworks"]) == ("g-gce-net", False)
    (sub,) = gcp.sent("POST", "^/compute/v1/projects/proj/regions/us-central1/subnetworks$")
    assert (sub["network"], sub["ipCidrRange"], sub["privateIpGoogleAccess"]) == (
        "projects/proj/global/networks/g-gce-net", "10.10.0.0/24", True)
    (inst,) = gcp.sent("POST", f"^{ZONE}$")
    assert inst["networkInterfaces"][0]["subnetwork"] == \
        "projects/proj/regions/us-central1/subnetworks/g-gce-subnet"
    assert inst["labels"] == {"invindex-cluster": "g-gce", "managed-by": "invindex"}
    assert inst["machineType"] == "zones/us-central1-a/machineTypes/e2-medium"
    assert inst["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableVtpm": True,
                                              "enableIntegrityMonitoring": True}
    assert "accessConfigs" not in inst["networkInterfaces"][0]
    meta = {i["key"]: i["value"] for i in inst["metadata"]["items"]}
    assert meta == {"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE",
                    "startup-script": "#!/bin/sh\necho hi\n"}
    assert inst["disks"][0]["initializeParams"]["sourceImage"].endswith("family/debian-12")
    assert "serviceAccounts" not in inst
    (fw,) = gcp.sent("POST", f"^{FIREWALLS}$")
    assert (fw["sourceRanges"], fw["targetTags"], fw["allowed"]) == (
        ["198.51.100.0/24"], ["g-gce"], [{"IPProtocol": "tcp", "ports": ["22"]}])
    assert fw["network"] == "projects/proj/global/networks/g-gce-net"

    posts = len(gcp.sent("POST", "."))
    again = api.up(spec, echo=quiet, credentials=creds)
    assert again.created == [] and len(gcp.sent("POST", ".")) == posts

    where = api.location_of("g-gce", spec)
    assert len(api.status("g-gce", where, credentials=creds)) == 4
    gone = api.down("g-gce", where, echo=quiet, credentials=creds)
    assert [k for k, _ in gone] == ["gce_instance", "gce_firewall", "gce_subnetwork",
                                    "gce_network"]
    assert gcp.store == {}


def test_dataproc_cluster_with_autoscaling_policy(gcp, tmp_path):
    """Against the local fake server: the autoscaling policy (primary workers fixed,
    secondary 0..8, cooldown 180 s) is created first, then the cluster referring to it by
    full name, on the regional path, internal IPs only, Shielded VMs, OS Login, idle
    deletion, on the cluster's own subnet with a rule letting the nodes reach each other;
    `down` deletes the cluster before the policy it uses, then the network."""
    spec = spec_for(tmp_path, gcp, "dataproc", """
        [dataproc]
        init_script = "gs://bucket/install-invindex.sh"
        [scaling]
        min = 0
        max = 8
        desired = 0
    """)
    creds = AnonymousCredentials()
    api.up(spec, echo=quiet, credentials=creds)
    (policy,) = gcp.sent("POST", f"^{REGION}/autoscalingPolicies$")
    assert policy["id"] == "g-dataproc-scaling"
    assert policy["basicAlgorithm"]["cooldownPeriod"] == "180s"
    assert policy["basicAlgorithm"]["yarnConfig"]["gracefulDecommissionTimeout"] == "3600s"
    assert policy["workerConfig"] == {"minInstances": 2, "maxInstances": 2}
    assert policy["secondaryWorkerConfig"] == {"maxInstances": 8}  # 0 is proto3's default
    (cluster,) = gcp.sent("POST", f"^{REGION}/clusters$")
    config = cluster["config"]
    assert config["autoscalingConfig"]["policyUri"] == \
        "projects/proj/regions/us-central1/autoscalingPolicies/g-dataproc-scaling"
    assert config["gceClusterConfig"]["internalIpOnly"] is True
    assert config["gceClusterConfig"]["metadata"] == {"enable-oslogin": "true",
                                                      "block-project-ssh-keys": "true"}
    assert config["gceClusterConfig"]["subnetworkUri"] == \
        "projects/proj/regions/us-central1/subnetworks/g-dataproc-subnet"
    (internal,) = gcp.sent("POST", f"^{FIREWALLS}$")
    assert (internal["name"], internal["sourceRanges"]) == ("g-dataproc-internal",
                                                            ["10.10.0.0/24"])
    assert config["gceClusterConfig"]["shieldedInstanceConfig"]["enableSecureBoot"] is True
    assert config["lifecycleConfig"]["idleDeleteTtl"] == "3600s"
    assert config["initializationActions"] == [
        {"executableFile": "gs://bucket/install-invindex.sh"}]
    assert cluster["labels"]["invindex-cluster"] == "g-dataproc"

    assert api.up(spec, echo=quiet, credentials=creds).created == []
    assert len(gcp.sent("POST", ".")) == 5

    gone = api.down("g-dataproc", api.location_of("g-dataproc", spec), echo=quiet,
                    credentials=creds)
    assert [k for k, _ in gone] == ["dataproc_cluster", "dataproc_policy", "gce_firewall",
                                    "gce_subnetwork", "gce_network"]
    assert gcp.store == {}


def test_dataproc_failure_rolls_back_the_policy(gcp, tmp_path):
    """The fake server refuses the cluster (HTTP 400): the policy made just before is
    deleted again and the error is one line naming the failed step."""
    spec = spec_for(tmp_path, gcp, "dataproc")
    gcp.fail[("POST", f"^{REGION}/clusters$")] = 400
    with pytest.raises(InvindexError, match="up failed at dataproc_cluster g-dataproc.*"
                                            "rolled back 4"):
        api.up(spec, echo=quiet, credentials=AnonymousCredentials())
    assert gcp.store == {}
    assert gcp.sent("DELETE", "autoscalingPolicies/g-dataproc-scaling$") == [None]


def test_longest_name_fits_the_dataproc_policy_id_limit(gcp, tmp_path):
    """A policy id may have at most 50 characters; `{name}-autoscaling` reached 52 for a
    40-character cluster name."""
    name = "d" * 40
    spec = spec_for(tmp_path, gcp, "dataproc")
    spec = load_spec(_renamed(tmp_path, spec, name))
    api.up(spec, echo=quiet, credentials=AnonymousCredentials())
    (policy,) = gcp.sent("POST", f"^{REGION}/autoscalingPolicies$")
    assert len(policy["id"]) <= 50


def test_a_named_subnetwork_is_used_and_no_network_created(gcp, tmp_path):
    spec = spec_for(tmp_path, gcp, "gce", """
        [network]
        subnetwork = "projects/proj/regions/us-central1/subnetworks/shared"
        vpc_network = "projects/proj/global/networks/shared"
        ingress = [{ protocol = "tcp", port = 22, cidr = "198.51.100.0/24" }]
    """)
    out = api.up(spec, echo=quiet, credentials=AnonymousCredentials())
    assert [k for k, _, _ in out.created] == ["gce_firewall", "gce_instance"]
    (fw,) = gcp.sent("POST", f"^{FIREWALLS}$")
    assert fw["network"] == "projects/proj/global/networks/shared"
    (inst,) = gcp.sent("POST", f"^{ZONE}$")
    assert inst["networkInterfaces"][0]["subnetwork"].endswith("/subnetworks/shared")


def _renamed(tmp_path, spec, name: str):
    path = tmp_path / "renamed.toml"
    text = Path(spec.source).read_text()
    path.write_text(text.replace(f'name = "{spec.name}"', f'name = "{name}"'))
    return path


def test_dataproc_policy_updates_in_place_and_a_new_machine_type_is_refused(gcp, tmp_path):
    """Against the local server: raising the secondary workers' max is an
    UpdateAutoscalingPolicy (PUT of the whole policy) and nothing else; a new worker type
    would need a new cluster: `up` refuses before sending anything."""
    spec = spec_for(tmp_path, gcp, "dataproc")
    creds = AnonymousCredentials()
    api.up(spec, echo=quiet, credentials=creds)
    _, same = api.diff(spec, credentials=creds)
    assert [c.action for c in same if c.step.kind.startswith("dataproc")] == [
        "unchanged", "unchanged"]
    more = spec_for(tmp_path, gcp, "dataproc", """
        [scaling]
        min = 0
        max = 12
        desired = 0
    """)
    plan, changes = api.diff(more, credentials=creds)
    (policy,) = [c for c in changes if c.step.kind == "dataproc_policy"]
    assert policy.action == "update" and "max_instances" in " ".join(policy.update)
    assert {c.action for c in changes if c is not policy} <= {"unchanged", "exists"}
    writes = len([r for r in gcp.requests if r[0] != "GET"])
    out = api.up(more, echo=quiet, credentials=creds)
    assert [k for k, _, _ in out.updated] == ["dataproc_policy"]
    (put,) = gcp.sent("PUT", "autoscalingPolicies/g-dataproc-scaling$")
    assert put["secondaryWorkerConfig"]["maxInstances"] == 12
    assert len([r for r in gcp.requests if r[0] != "GET"]) == writes + 1

    other = spec_for(tmp_path, gcp, "dataproc", """
        [dataproc]
        worker_type = "n2-standard-8"
    """)
    with pytest.raises(InvindexError, match=r"dataproc_cluster g-dataproc \(worker_type "
                                            r"n2-standard-4 -> n2-standard-8\)"):
        api.up(other, echo=quiet, credentials=creds)
    assert len([r for r in gcp.requests if r[0] != "GET"]) == writes + 1


@pytest.mark.parametrize("shape, key, found, kind", [
    ("gce", "projects/proj/global/networks/g-gce-net", {"description": "theirs"},
     "VPC network named g-gce-net"),
    ("gce", "projects/proj/zones/us-central1-a/instances/g-gce", {"labels": {}},
     "GCE instance named g-gce"),
    ("dataproc", "projects/proj/regions/us-central1/autoscalingPolicies/g-dataproc-scaling",
     {"labels": {"invindex-cluster": "other", "managed-by": "invindex"}},
     "Dataproc autoscaling policy named g-dataproc-scaling"),
    ("cloudsql-postgres", "sql/proj/instances/g-cloudsql-postgres", {"settings": {}},
     "Cloud SQL instance named g-cloudsql-postgres"),
])
def test_a_resource_of_that_name_not_ours_is_refused(gcp, tmp_path, shape, key, found, kind):
    """A resource with the cluster's name but not its labels (or, for compute resources
    without labels, its marker) is someone else's: `up` stops with one line, whichever
    client family read it (google-cloud-* or googleapiclient), before creating anything."""
    gcp.store[key] = dict(found, name=key.rsplit("/", 1)[1])
    spec = spec_for(tmp_path, gcp, shape)
    with pytest.raises(InvindexError) as e:
        api.up(spec, echo=quiet, credentials=AnonymousCredentials())
    assert str(e.value) == (f"a {kind} exists but is not labelled for this cluster; "
                            "rename the cluster or remove it")
    assert gcp.sent("POST", ".") == []  # found while planning: nothing created


def test_an_edited_ingress_rule_is_patched_and_a_dropped_one_deleted(gcp, tmp_path):
    """Against the local fake server: GCP keeps each ingress rule as its own firewall
    resource, so a spec edit that narrows or removes access must reach them, as it does an
    AWS security group's rules. A narrowed source range is a PATCH of that rule (`plan`
    shows update); a rule the spec no longer lists is deleted by `up` (`plan` shows
    remove), not left open until `down`."""
    two = spec_for(tmp_path, gcp, "gce", """
        [network]
        ingress = [{ protocol = "tcp", port = 22, cidr = "198.51.100.0/24" },
                   { protocol = "tcp", port = 8080, cidr = "198.51.100.0/24" }]
    """)
    creds = AnonymousCredentials()
    api.up(two, echo=quiet, credentials=creds)
    assert f"{FIREWALLS[len('/compute/v1/'):]}/g-gce-allow-1" in gcp.store
    one = spec_for(tmp_path, gcp, "gce", """
        [network]
        ingress = [{ protocol = "tcp", port = 22, cidr = "198.51.100.7/32" }]
    """)
    plan, changes = api.diff(one, credentials=creds)
    actions = {(c.action, c.step.name) for c in changes if c.step.kind == "gce_firewall"}
    assert actions == {("update", "g-gce-allow-0"), ("remove", "g-gce-allow-1")}
    text = plan.text(changes=changes)
    assert "source_ranges" in text and "remove    gce_firewall g-gce-allow-1" in text
    writes = len([r for r in gcp.requests if r[0] != "GET"])

    out = api.up(one, echo=quiet, credentials=creds)
    assert [k for k, n, _ in out.updated] == ["gce_firewall"]
    assert out.removed == [("gce_firewall", "g-gce-allow-1")]
    (patch,) = gcp.sent("PATCH", f"^{FIREWALLS}/g-gce-allow-0$")
    assert patch["sourceRanges"] == ["198.51.100.7/32"]
    assert f"{FIREWALLS[len('/compute/v1/'):]}/g-gce-allow-1" not in gcp.store
    kept = gcp.store[f"{FIREWALLS[len('/compute/v1/'):]}/g-gce-allow-0"]
    assert kept["sourceRanges"] == ["198.51.100.7/32"]
    assert len([r for r in gcp.requests if r[0] != "GET"]) == writes + 2

    _, again = api.diff(one, credentials=creds)
    assert {c.action for c in again if c.step.kind == "gce_firewall"} == {"unchanged"}


SUBNETS = "/compute/v1/projects/proj/regions/us-central1/subnetworks"


def test_network_and_instance_edits_are_refused_or_applied_never_kept(gcp, tmp_path):
    """Against the local fake server: the cluster's network and subnet and the VM are
    compared with the spec, not only found. A new subnet range, or an external IP added to
    (or taken from) the VM, would need new resources: `plan` says replace and `up` refuses
    with one line naming them, sending nothing. Private Google Access turned off by hand is
    turned on again in place (setPrivateIpGoogleAccess)."""
    spec = spec_for(tmp_path, gcp, "gce")
    creds = AnonymousCredentials()
    api.up(spec, echo=quiet, credentials=creds)
    _, same = api.diff(spec, credentials=creds)
    assert {c.action for c in same} == {"unchanged"}, [c.line() for c in same]
    writes = len([r for r in gcp.requests if r[0] != "GET"])

    wider = spec_for(tmp_path, gcp, "gce", """
        [network]
        subnet_cidr = "10.20.0.0/24"
        public_ip = true
    """)
    _, changes = api.diff(wider, credentials=creds)
    replaced = {c.step.kind: sorted(c.replace) for c in changes if c.action == "replace"}
    assert replaced == {"gce_subnetwork": ["ip_cidr_range"],
                        "gce_instance": ["external_ip"]}
    with pytest.raises(InvindexError, match=r"gce_subnetwork g-gce-subnet \(ip_cidr_range "
                                            r"10.10.0.0/24 -> 10.20.0.0/24\).*gce_instance"):
        api.up(wider, echo=quiet, credentials=creds)
    assert len([r for r in gcp.requests if r[0] != "GET"]) == writes

    gcp.store["projects/proj/regions/us-central1/subnetworks/g-gce-subnet"][
        "privateIpGoogleAccess"] = False
    out = api.up(spec, echo=quiet, credentials=creds)
    assert [k for k, _, _ in out.updated] == ["gce_subnetwork"]
    assert gcp.sent("POST", f"^{SUBNETS}/g-gce-subnet/setPrivateIpGoogleAccess$") == [
        {"privateIpGoogleAccess": True}]


def test_dataproc_without_scaling_detaches_and_deletes_the_policy(gcp, tmp_path):
    """Against the local fake server: `mode = "none"` in an edited spec must stop the
    autoscaler, not only stop creating its policy: `plan` shows the cluster as update (its
    autoscaling policy) and the policy as remove; `up` PATCHes the cluster with that one
    field in the update mask and an empty policy, then deletes the
    policy (Dataproc refuses to delete a policy a cluster uses)."""
    spec = spec_for(tmp_path, gcp, "dataproc")
    creds = AnonymousCredentials()
    api.up(spec, echo=quiet, credentials=creds)
    fixed = spec_for(tmp_path, gcp, "dataproc", """
        [scaling]
        mode = "none"
        min = 0
        max = 4
        desired = 0
    """)
    _, changes = api.diff(fixed, credentials=creds)
    acted = {(c.action, c.step.kind) for c in changes if c.action != "unchanged"}
    assert acted == {("update", "dataproc_cluster"), ("remove", "dataproc_policy")}
    out = api.up(fixed, echo=quiet, credentials=creds)
    assert out.removed == [("dataproc_policy", f"{REGION[4:]}/autoscalingPolicies/"
                                               "g-dataproc-scaling")]
    (patch,) = gcp.sent("PATCH", f"^{REGION}/clusters/g-dataproc$")
    assert patch["config"].get("autoscalingConfig", {}).get("policyUri", "") == ""
    mask = [q for m, p, q, _ in gcp.requests if m == "PATCH"][0]["updateMask"]
    assert mask == ["config.autoscalingConfig.policyUri"]  # the FieldMask's JSON form
    assert not [k for k in gcp.store if "autoscalingPolicies" in k]
    _, again = api.diff(fixed, credentials=creds)
    assert {c.action for c in again} == {"unchanged"}


def test_dataproc_down_empties_what_the_cluster_left_in_its_buckets(gcp, tmp_path, gcs_server,
                                                                  monkeypatch):
    """Dataproc keeps a cluster's files in the project's staging and temp buckets (shared by
    every cluster of the region: not deleted with the cluster, and billed as storage). The
    fake Dataproc server answers with the bucket names and cluster UUID Dataproc reports;
    the buckets are real ones in gcp-storage-emulator. `down` deletes this cluster's
    objects there (google-cloud-dataproc-metainfo/UUID/ in staging, UUID/ in temp) and
    leaves the buckets and another cluster's files alone."""
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj")
    client = storage.Client(project="proj")
    objects = {"dp-staging": ["google-cloud-dataproc-metainfo/uuid-1/cluster.info",
                              "google-cloud-dataproc-metainfo/uuid-1/jobs/j1/driveroutput",
                              "google-cloud-dataproc-metainfo/uuid-9/cluster.info"],
               "dp-temp": ["uuid-1/spark-job-history/app-1", "uuid-9/yarn/x"]}
    for bucket, names in objects.items():
        made = client.create_bucket(bucket)
        for name in names:
            made.blob(name).upload_from_string(b"x")
    gcp.cluster_buckets = ("dp-staging", "dp-temp")
    spec = spec_for(tmp_path, gcp, "dataproc")
    creds = AnonymousCredentials()
    try:
        api.up(spec, echo=quiet, credentials=creds)
        api.down("g-dataproc", api.location_of("g-dataproc", spec), echo=quiet,
                 credentials=creds)
        left = {b: sorted(o.name for o in client.list_blobs(b)) for b in objects}
    finally:
        for bucket in objects:
            client.bucket(bucket).delete(force=True)
    assert left == {"dp-staging": ["google-cloud-dataproc-metainfo/uuid-9/cluster.info"],
                    "dp-temp": ["uuid-9/yarn/x"]}
