"""The Azure VM through the real azure-mgmt-resource / -network / -compute clients pointed
at a local HTTPS server (``_fake_cloud.FakeArm``, with a throwaway self-signed certificate:
the SDK sends bearer tokens over TLS only). No Azure emulator exists: the tests assert on the
requests the libraries send; whether Azure would accept them is not tested here. The
credential is a static test token object (the real code uses DefaultAzureCredential)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import textwrap
import time

import pytest
from _fake_cloud import FakeArm

from invindex.errors import InvindexError
from invindex.provision import api
from invindex.provision.spec import load_spec
from tests.conftest import needs

pytestmark = needs("azure.mgmt.compute", "azure.mgmt.network")

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW5vdC1hLXJlYWwtb25l test@invindex"
RG = "/subscriptions/sub-1/resourceGroups/a-vm-rg"


class StaticToken:
    """A stand-in credential: a fixed token string, no secret anywhere."""

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken("test-token", int(time.time()) + 3600)


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def arm(state_dir, tmp_path):
    cert, key = _self_signed(tmp_path)
    server = FakeArm()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.start()
    server.inject = {"credential": StaticToken(),
                     "client_kwargs": {"connection_verify": str(cert)}}
    yield server
    server.stop()


def vm_spec(tmp_path, server, extra: str = ""):
    pub = tmp_path / "id_test.pub"
    pub.write_text(KEY + "\n")
    path = tmp_path / "vm.toml"
    path.write_text(textwrap.dedent(f"""
        name = "a-vm"
        shape = "azure-vm"
        [azure]
        subscription_id = "sub-1"
        location = "westeurope"
        endpoint = "{server.url}"
        [machine]
        ssh_public_key = "{pub}"
        user_data = "#!/bin/sh\\necho hi\\n"
    """) + textwrap.dedent(extra))
    return load_spec(path)


def machine(tmp_path, server, lines: str, extra: str = ""):
    """``vm_spec`` with more ``[machine]`` fields."""
    vm_spec(tmp_path, server, extra)
    path = tmp_path / "vm.toml"
    path.write_text(path.read_text().replace("[machine]\n", f"[machine]\n{lines}\n"))
    return load_spec(path)


def quiet(line: str) -> None:
    pass


def test_vm_requests_ssh_key_only_idempotent_and_down_in_order(arm, tmp_path):
    """Against the local fake ARM server: resource group, NSG with no inbound rule, VNet,
    NIC, then the VM with password authentication disabled and only the SSH key, Trusted
    Launch, tags everywhere; a second `up` PUTs nothing; `down` finds it all by tag and
    deletes the VM (which takes its OS disk and NIC along: deleteOption Delete, applied by
    the fake server as Azure does, so nothing untagged stays to bill), the network, the
    group last."""
    spec = vm_spec(tmp_path, arm)
    out = api.up(spec, echo=quiet, **arm.inject)
    assert [k for k, _, _ in out.created] == [
        "resource_group", "network_security_group", "virtual_network", "network_interface",
        "virtual_machine"]
    assert all(body["tags"] == {"invindex-cluster": "a-vm", "managed-by": "invindex"}
               for body in arm.sent("PUT", "."))
    (nsg,) = arm.sent("PUT", "networkSecurityGroups/a-vm-nsg$")
    assert nsg["properties"]["securityRules"] == []
    (vm,) = arm.sent("PUT", "virtualMachines/a-vm$")
    linux = vm["properties"]["osProfile"]["linuxConfiguration"]
    assert linux["disablePasswordAuthentication"] is True
    assert linux["ssh"]["publicKeys"] == [
        {"path": "/home/invindex/.ssh/authorized_keys", "keyData": KEY}]
    assert "adminPassword" not in vm["properties"]["osProfile"]
    assert vm["properties"]["securityProfile"]["securityType"] == "TrustedLaunch"
    assert vm["properties"]["networkProfile"]["networkInterfaces"][0]["id"] == \
        f"{RG}/providers/Microsoft.Network/networkInterfaces/a-vm-nic"
    assert vm["properties"]["storageProfile"]["osDisk"]["deleteOption"] == "Delete"
    assert not arm.sent("PUT", "publicIPAddresses")
    (nic,) = arm.sent("PUT", "networkInterfaces/a-vm-nic$")
    assert nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"] == \
        f"{RG}/providers/Microsoft.Network/virtualNetworks/a-vm-vnet/subnets/default"

    puts = len(arm.sent("PUT", "."))
    assert api.up(spec, echo=quiet, **arm.inject).created == []
    assert len(arm.sent("PUT", ".")) == puts

    assert any(k.endswith("/microsoft.compute/disks/a-vm-osdisk") for k in arm.store)
    gone = api.down("a-vm", api.location_of("a-vm", spec), echo=quiet, **arm.inject)
    # the VM takes its OS disk (untagged: `down` could not find it) and NIC along
    assert [k for k, _ in gone] == ["virtual_machine", "virtual_network",
                                    "network_security_group", "resource_group"]
    assert arm.store == {}


def test_vm_failure_rolls_back_in_reverse(arm, tmp_path):
    """The fake server refuses the VM (HTTP 400): NIC, VNet, NSG and the group made by this
    run are deleted again, newest first."""
    spec = vm_spec(tmp_path, arm, """
        [network]
        public_ip = true
        ingress = [{ protocol = "tcp", port = 22, cidr = "192.0.2.0/24" }]
    """)
    arm.fail[("PUT", "virtualMachines/a-vm$")] = 400
    with pytest.raises(InvindexError, match="up failed at virtual_machine a-vm.*rolled back 5"):
        api.up(spec, echo=quiet, **arm.inject)
    (nsg,) = arm.sent("PUT", "networkSecurityGroups/a-vm-nsg$")
    assert nsg["properties"]["securityRules"][0]["properties"]["sourceAddressPrefix"] == \
        "192.0.2.0/24"
    deleted = [p.rsplit("/", 1)[-1] for m, p, _, _ in arm.requests if m == "DELETE"]
    assert deleted == ["a-vm-nic", "a-vm-ip", "a-vm-vnet", "a-vm-nsg", "a-vm-rg"]
    assert arm.store == {}


def test_an_edited_ingress_list_replaces_the_nsg_rules(arm, tmp_path):
    """Against the local fake ARM server: the spec's ingress rules are the network security
    group's `securityRules`; narrowing a range or dropping a rule in the spec must reach
    them (`plan` shows the NSG as update; `up` PUTs the NSG with exactly the new rules, which
    replaces the old list), not leave the wider rule open until `down`."""
    two = vm_spec(tmp_path, arm, """
        [network]
        ingress = [{ protocol = "tcp", port = 22, cidr = "198.51.100.0/24" },
                   { protocol = "tcp", port = 8080, cidr = "198.51.100.0/24" }]
    """)
    api.up(two, echo=quiet, **arm.inject)
    one = vm_spec(tmp_path, arm, """
        [network]
        ingress = [{ protocol = "tcp", port = 22, cidr = "198.51.100.7/32" }]
    """)
    _, changes = api.diff(one, **arm.inject)
    (nsg,) = [c for c in changes if c.step.kind == "network_security_group"]
    assert nsg.action == "update" and "securityRules" in " ".join(nsg.update)
    assert {c.action for c in changes if c is not nsg} <= {"exists", "unchanged"}
    puts = len(arm.sent("PUT", "."))

    out = api.up(one, echo=quiet, **arm.inject)
    assert [k for k, _, _ in out.updated] == ["network_security_group"]
    assert len(arm.sent("PUT", ".")) == puts + 1
    rules = arm.sent("PUT", "networkSecurityGroups/a-vm-nsg$")[-1]["properties"]["securityRules"]
    assert [(r["name"], r["properties"]["sourceAddressPrefix"],
             r["properties"]["destinationPortRange"]) for r in rules] == [
        ("allow-0", "198.51.100.7/32", "22")]
    _, again = api.diff(one, **arm.inject)
    assert [c.action for c in again if c.step.kind == "network_security_group"] == [
        "unchanged"]


def test_dropping_the_public_ip_detaches_and_deletes_it_and_a_new_size_is_applied(arm,
                                                                                  tmp_path):
    """Against the local fake ARM server: `public_ip = false` in an edited spec must not
    leave the VM reachable on its old address: `plan` shows the NIC as update (its IP
    configuration loses the address) and the public IP as remove; `up` PUTs the NIC without
    it, then deletes the address. A new VM size is a PUT of the VM (update); a new image
    would need a new VM: refused by name before anything is sent."""
    spec = vm_spec(tmp_path, arm, "[network]\npublic_ip = true\n")
    api.up(spec, echo=quiet, **arm.inject)
    assert arm.sent("PUT", "publicIPAddresses/a-vm-ip$")
    private = machine(tmp_path, arm, 'type = "Standard_B2ms"', "[network]\npublic_ip = false\n")
    _, changes = api.diff(private, **arm.inject)
    acted = {(c.action, c.step.kind) for c in changes if c.action not in ("unchanged",
                                                                          "exists")}
    assert acted == {("update", "network_interface"), ("update", "virtual_machine"),
                     ("remove", "public_ip")}
    puts = len(arm.sent("PUT", "."))
    out = api.up(private, echo=quiet, **arm.inject)
    assert out.removed == [("public_ip", f"{RG}/providers/Microsoft.Network/publicIPAddresses/"
                                         "a-vm-ip")]
    nic = arm.sent("PUT", "networkInterfaces/a-vm-nic$")[-1]
    assert "publicIPAddress" not in nic["properties"]["ipConfigurations"][0]["properties"]
    assert arm.sent("PUT", "virtualMachines/a-vm$")[-1]["properties"]["hardwareProfile"] == {
        "vmSize": "Standard_B2ms"}
    assert len(arm.sent("PUT", ".")) == puts + 2
    assert not [k for k in arm.store if "publicipaddresses" in k]

    other = machine(tmp_path, arm, 'type = "Standard_B2ms"\nimage = "Canonical:o:s:1"',
                    "[network]\npublic_ip = false\n")
    with pytest.raises(InvindexError, match="virtual_machine a-vm .*imageReference"):
        api.up(other, echo=quiet, **arm.inject)
    assert len(arm.sent("PUT", ".")) == puts + 2


def test_down_with_a_public_ip_leaves_nothing(arm, tmp_path):
    """Against the local fake ARM server (which makes the VM's untagged OS disk and deletes
    it, and the NIC, with the VM only when their deleteOption says so, as Azure does): after
    `up` with a public IP and `down`, nothing is left: no disk, NIC, address or group."""
    spec = vm_spec(tmp_path, arm, "[network]\npublic_ip = true\n")
    api.up(spec, echo=quiet, **arm.inject)
    kinds = {v["type"] for v in arm.store.values()}
    assert {"Microsoft.Compute/disks", "Microsoft.Network/publicIPAddresses",
            "Microsoft.Network/networkInterfaces"} <= kinds
    api.down("a-vm", api.location_of("a-vm", spec), echo=quiet, **arm.inject)
    assert arm.store == {}
