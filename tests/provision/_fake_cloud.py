"""Tiny in-memory REST servers standing in for GCP's and Azure's control planes.

GCP and Azure have no emulator for Compute, Dataproc or ARM. These servers (loopback only)
store what is PUT/POSTed, return it on GET, list it, delete it, answer long-running
operations as already done, and record every request, so that the tests drive the real
client libraries end to end and assert on the requests those libraries send. They do not
check the bodies against the real APIs' rules: that a request is *accepted* by Google or
Azure is not tested here.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Tuple
from urllib.parse import parse_qs, unquote, urlsplit


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.store: Dict[str, Dict[str, Any]] = {}
        self.requests: List[Tuple[str, str, Dict[str, List[str]], Any]] = []
        self.lock = threading.Lock()
        self.fail: Dict[Tuple[str, str], int] = {}  # (method, path regex) -> status

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"

    def start(self) -> Recorder:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def sent(self, method: str, pattern: str) -> List[Any]:
        """Bodies of the recorded requests with this method and a path matching pattern."""
        return [body for m, path, _, body in self.requests
                if m == method and re.search(pattern, path)]

    def handle_call(self, method: str, path: str, query: Dict[str, List[str]],
                    body: Any) -> Tuple[int, Any]:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        server: Recorder = self.server  # type: ignore[assignment]
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw.strip() else None
        with server.lock:
            server.requests.append((self.command, path, query, body))
            status = next((s for (m, p), s in server.fail.items()
                           if m == self.command and re.search(p, path)), 0)
            if status:
                code, reply = status, {"error": {"code": status, "message": "injected failure",
                                                 "status": "INTERNAL"}}
            else:
                code, reply = server.handle_call(self.command, path, query, body)
        data = b"" if reply is None else json.dumps(reply).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class FakeGcp(Recorder):
    """Compute Engine (instances, firewalls, networks, subnetworks), Dataproc (clusters,
    autoscaling policies) and the Cloud SQL Admin API (instances, databases, users)."""

    # the staging and temp buckets a new Dataproc cluster reports ("": none, as before)
    cluster_buckets = ("", "")

    def handle_call(self, method, path, query, body):
        m = re.match(r"^/compute/v1/(projects/[^/]+/(?:zones/[^/]+/instances|global/firewalls|"
                     r"global/networks|regions/[^/]+/subnetworks))(?:/([^/]+))?"
                     r"(?:/(setPrivateIpGoogleAccess))?$", path)
        if m and m.group(3):  # a subnetwork's setter: a POST of the one field
            return self._compute("PATCH", m.group(1), m.group(2), body)
        if m:
            return self._compute(method, m.group(1), m.group(2), body)
        m = re.match(r"^/v1/(projects/[^/]+/regions/[^/]+/(clusters|autoscalingPolicies))"
                     r"(?:/([^/]+))?$", path)
        if m:
            return self._dataproc(method, m.group(1), m.group(2), m.group(3), body)
        m = re.match(r"^/v1/projects/([^/]+)/(instances|operations)(?:/([^/]+))?"
                     r"(?:/(databases|users)(?:/([^/]+))?)?$", path)
        if m:
            return self._sql(method, *m.groups(), body=body, query=query)
        return 404, _gerror(404, f"no route {path}")

    def _sql(self, method, project, kind, name, child, child_name, body, query):
        """Cloud SQL Admin v1: instances (refusing to delete one with deletion protection,
        as the API does), their databases and users (listed; a user deleted by its
        ``name`` query parameter, as users.delete is); operations are born DONE."""
        done = {"kind": "sql#operation", "name": "op-1", "status": "DONE"}
        if kind == "operations":
            return 200, done
        base = f"sql/{project}/instances"
        if child:
            key = f"{base}/{name}/{child}"
            if f"{base}/{name}" not in self.store:
                return 404, _gerror(404, f"instance {name} not found")
            if method == "POST":
                self.store[f"{key}/{body['name']}"] = dict(body)
                return 200, done
            child_name = child_name or query.get("name", [None])[0]
            if method == "GET" and child_name is None:
                return 200, {"items": _children(self.store, key)}
            if f"{key}/{child_name}" not in self.store:
                return 404, _gerror(404, f"{child_name} not found")
            if method == "DELETE":
                del self.store[f"{key}/{child_name}"]
                return 200, done
            return 200, self.store[f"{key}/{child_name}"]
        if method == "POST":
            if f"{base}/{body['name']}" in self.store:
                return 409, _gerror(409, "already exists")
            private = body["settings"]["ipConfiguration"].get("privateNetwork")
            item = dict(body, state="RUNNABLE",
                        connectionName=f"{project}:{body['region']}:{body['name']}",
                        ipAddresses=[{"type": "PRIVATE" if private else "PRIMARY",
                                      "ipAddress": "10.10.0.5" if private else "203.0.113.5"}])
            self.store[f"{base}/{body['name']}"] = item
            return 200, done
        if method == "GET" and name is None:
            return 200, {"items": _children(self.store, base)}
        key = f"{base}/{name}"
        if key not in self.store:
            return 404, _gerror(404, f"{name} not found")
        if method == "PATCH":
            self.store[key]["settings"].update(body.get("settings", {}))
            return 200, done
        if method == "DELETE":
            if self.store[key]["settings"].get("deletionProtectionEnabled"):
                return 400, _gerror(400, "deletion protection is enabled")
            for k in [k for k in self.store if k == key or k.startswith(key + "/")]:
                del self.store[k]
            return 200, done
        return 200, self.store[key]

    def _compute(self, method, collection, name, body):
        done = {"kind": "compute#operation", "name": "operation-1", "status": "DONE",
                "progress": 100}
        if method == "POST" and name is None:
            if f"{collection}/{body['name']}" in self.store:
                return 409, _gerror(409, "already exists")
            item = dict(body, status="RUNNING", selfLink=f"{collection}/{body['name']}")
            self.store[f"{collection}/{body['name']}"] = item
            if collection.endswith("/instances"):  # GCE makes the boot disk, named after it
                disk = f"{collection.rsplit('/', 1)[0]}/disks/{body['name']}"
                self.store[disk] = {"name": body["name"], "autoDelete": any(
                    d.get("autoDelete") for d in body.get("disks", []) if d.get("boot"))}
            return 200, done
        if method == "GET" and name is None:
            return 200, {"items": _children(self.store, collection)}
        key = f"{collection}/{name}"
        if key not in self.store:
            return 404, _gerror(404, f"{key} not found")
        if method == "DELETE":
            del self.store[key]
            disk = f"{collection.rsplit('/', 1)[0]}/disks/{name}"
            if collection.endswith("/instances") and self.store.get(disk, {}).get("autoDelete"):
                del self.store[disk]  # as GCE does with an auto-delete disk, and only then
            return 200, done
        if method == "PATCH":  # JSON merge patch: the fields sent replace the stored ones
            self.store[key].update(body)
            return 200, done
        return 200, self.store[key]

    def _dataproc(self, method, collection, kind, name, body):
        if method == "POST" and name is None:
            ident = body["clusterName"] if kind == "clusters" else body["id"]
            key = f"{collection}/{ident}"
            if key in self.store:
                return 409, _gerror(409, "already exists")
            if kind == "clusters":
                item = dict(body, status={"state": "RUNNING"}, clusterUuid="uuid-1")
                staging, temp = self.cluster_buckets
                if staging:  # Dataproc reports the buckets it chose
                    item["config"] = dict(item.get("config", {}), configBucket=staging,
                                          tempBucket=temp)
                self.store[key] = item
                return 200, _lro(key, "google.cloud.dataproc.v1.Cluster", item)
            item = dict(body, name=key)
            self.store[key] = item
            return 200, item
        if method == "GET" and name is None:
            return 200, {kind: _children(self.store, collection)}
        key = f"{collection}/{name}"
        if key not in self.store:
            return 404, _gerror(404, f"{key} not found")
        if method == "DELETE":
            del self.store[key]
            return 200, (_lro(key, "google.protobuf.Empty", {}) if kind == "clusters" else {})
        if method == "PUT":  # UpdateAutoscalingPolicy replaces the policy
            self.store[key] = dict(body, name=key)
            return 200, self.store[key]
        if method == "PATCH" and kind == "clusters":  # UpdateCluster: only the autoscaler
            config = self.store[key].setdefault("config", {})
            config["autoscalingConfig"] = body.get("config", {}).get("autoscalingConfig", {})
            return 200, _lro(key, "google.cloud.dataproc.v1.Cluster", self.store[key])
        return 200, self.store[key]


def _gerror(code: int, message: str) -> Dict[str, Any]:
    status = {404: "NOT_FOUND", 409: "ALREADY_EXISTS"}.get(code, "INTERNAL")
    return {"error": {"code": code, "message": message, "status": status}}


def _lro(key: str, type_name: str, response: Dict[str, Any]) -> Dict[str, Any]:
    return {"name": f"{key}/operations/op-1", "done": True,
            "response": {"@type": f"type.googleapis.com/{type_name}", **response}}


def _children(store: Dict[str, Any], collection: str) -> List[Any]:
    return [v for k, v in store.items() if k.rsplit("/", 1)[0] == collection]


class FakeArm(Recorder):
    """Azure Resource Manager: resource groups and any provider resource; PUT stores,
    GET returns or lists, DELETE removes, ``/resources`` lists by tag filter."""

    def handle_call(self, method, path, query, body):
        key = path.lower().rstrip("/")
        sub = re.match(r"^/subscriptions/[^/]+", key)
        if not sub:
            return 404, _aerror("no route")
        if key == sub.group(0) + "/resources" or key == sub.group(0) + "/resourcegroups":
            want = "microsoft.resources/resourcegroups" if key.endswith("groups") else None
            items = [v for v in self.store.values()
                     if (v["type"].lower() == want) == (want is not None)]
            return 200, {"value": _tag_filter(items, query.get("$filter", [""])[0])}
        if method == "PUT":
            name = path.rstrip("/").rsplit("/", 1)[-1]
            item = dict(body or {}, id=path.rstrip("/"), name=name, type=_arm_type(path))
            item.setdefault("properties", {})["provisioningState"] = "Succeeded"
            self.store[key] = item
            if item["type"] == "Microsoft.Compute/virtualMachines":
                self._os_disk(path, item)
            return 201, item
        if method == "GET" and key in self.store:
            return 200, self.store[key]
        if method == "GET":
            children = [v for k, v in self.store.items() if k.rsplit("/", 1)[0] == key]
            return (200, {"value": children}) if children or key.endswith("s") and \
                "/providers/" in key and key.count("/") % 2 == 1 else (404, _aerror(key))
        if method == "HEAD":
            return (204 if key in self.store else 404), None
        if method == "DELETE":
            gone = self.store.pop(key, None)
            if gone and gone["type"] == "Microsoft.Compute/virtualMachines":
                self._delete_with(gone)
            return (200 if gone else 204), None
        return 405, _aerror("method")

    def _os_disk(self, path: str, vm: Dict[str, Any]) -> None:
        """Azure makes the VM's OS disk itself, untagged (the VM's tags are not copied)."""
        disk = vm["properties"].get("storageProfile", {}).get("osDisk", {})
        group = path.lower().split("/providers/")[0]
        key = f"{group}/providers/microsoft.compute/disks/{disk.get('name', '').lower()}"
        self.store.setdefault(key, {"id": key, "name": disk.get("name"), "tags": {},
                                    "type": "Microsoft.Compute/disks", "properties": {}})

    def _delete_with(self, vm: Dict[str, Any]) -> None:
        """What a deleted VM takes along: its OS disk and NICs whose deleteOption is
        Delete (Azure's default for both is Detach: they would stay, and bill)."""
        props = vm["properties"]
        disk = props.get("storageProfile", {}).get("osDisk", {})
        group = vm["id"].lower().split("/providers/")[0]
        if disk.get("deleteOption") == "Delete":
            self.store.pop(f"{group}/providers/microsoft.compute/disks/"
                           f"{disk.get('name', '').lower()}", None)
        for nic in props.get("networkProfile", {}).get("networkInterfaces", []):
            if nic.get("properties", {}).get("deleteOption") == "Delete":
                self.store.pop(nic["id"].lower(), None)


def _arm_type(path: str) -> str:
    bits = path.strip("/").split("/")
    if len(bits) == 4 and bits[2].lower() == "resourcegroups":
        return "Microsoft.Resources/resourceGroups"
    provider = bits.index("providers")
    return f"{bits[provider + 1]}/{bits[provider + 2]}"


def _tag_filter(items: List[Dict[str, Any]], expr: str) -> List[Dict[str, Any]]:
    m = re.match(r"tagName eq '([^']*)' and tagValue eq '([^']*)'", expr)
    if not m:
        return items
    return [i for i in items if (i.get("tags") or {}).get(m.group(1)) == m.group(2)]


def _aerror(message: str) -> Dict[str, Any]:
    return {"error": {"code": "ResourceNotFound", "message": message}}
