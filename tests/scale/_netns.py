"""Hosts made of Linux network namespaces, and a Spark standalone cluster across them.

One namespace holds a bridge; every "host" is a namespace whose ``eth0`` is a veth
plugged into that bridge, with an address from ``SUBNET``. The namespaces have no
default route and no link to the machine's own network: those addresses exist only
here, so nothing a test does can reach anything else. Every daemon runs under
``timeout``, which is told when pytest dies, even killed (see ``Hosts.popen``);
teardown kills what runs in each namespace by PID, then deletes the namespaces, which
removes the bridge and the veths.
Namespace names carry the creating process's PID, so leftovers of a run that was killed
are recognised (and removed) by the next one.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Set

from invindex.temps import pid_alive
from tests.conftest import _die_with_parent as die_with_parent

SUBNET = "10.213.70"  # /24; a private range that is never routed out of the namespaces
PREFIX = "iix"
DAEMON_LIMIT_S = 1800  # `timeout` for every daemon: longer than the module sharing them
KILL_AFTER_S = 10  # after a SIGTERM `timeout` passed on, its SIGKILL
JVM_OPTS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"  # less CPU to start and run
_NAME = re.compile(rf"^{PREFIX}(\d+)-\w+$")


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True,
                          text=True).stdout


def why_unavailable() -> str | None:
    """None when namespaces can be made here, else the reason (for pytest.skip)."""
    if not shutil.which("ip"):
        return "no `ip` command (iproute2)"
    if os.geteuid() != 0:
        return "`ip netns` needs root"
    probe = f"{PREFIX}{os.getpid()}-probe"
    try:
        ip("netns", "add", probe)
        ip("netns", "del", probe)
    except subprocess.CalledProcessError as e:
        return f"`ip netns add` failed: {e.stderr.strip()}"
    return None


def namespaces() -> List[str]:
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()]


def pids_in(ns: str) -> List[int]:
    try:
        return [int(p) for p in ip("netns", "pids", ns).split()]
    except subprocess.CalledProcessError:
        return []


def kill_all(ns: str, sig: int = signal.SIGKILL) -> List[int]:
    """Kill every process in the namespace, by PID; returns the PIDs."""
    pids = pids_in(ns)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    return pids


def _delete(ns: str) -> None:
    for _ in range(50):
        kill_all(ns)
        if not pids_in(ns):
            break
        time.sleep(0.1)
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def remove_stale() -> None:
    """Namespaces left by a run whose process no longer exists."""
    for ns in namespaces():
        m = _NAME.match(ns)
        if m and not pid_alive(int(m.group(1))):
            _delete(ns)


@dataclass
class Hosts:
    """A bridge namespace and one namespace per host name, each host at ``address``."""

    names: Sequence[str]
    tag: str = field(default_factory=lambda: f"{PREFIX}{os.getpid()}")
    address: Dict[str, str] = field(default_factory=dict)
    procs: List[subprocess.Popen] = field(default_factory=list)
    damaged: Set[str] = field(default_factory=set)  # cut or crashed since the last repair

    @property
    def bridge_ns(self) -> str:
        return f"{self.tag}-br"

    def ns(self, host: str) -> str:
        return f"{self.tag}-{host}"

    def create(self) -> Hosts:
        ip("netns", "add", self.bridge_ns)
        ip("-n", self.bridge_ns, "link", "add", "br0", "type", "bridge")
        ip("-n", self.bridge_ns, "link", "set", "br0", "up")
        for i, host in enumerate(self.names, start=1):
            ns, port = self.ns(host), f"p-{host}"
            ip("netns", "add", ns)
            ip("-n", self.bridge_ns, "link", "add", port, "type", "veth", "peer", "name",
               "eth0", "netns", ns)
            ip("-n", self.bridge_ns, "link", "set", port, "master", "br0", "up")
            self.address[host] = f"{SUBNET}.{i}"
            ip("-n", ns, "addr", "add", f"{self.address[host]}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
        return self

    def cut(self, host: str) -> None:
        """Pull the host's cable: its bridge port goes down, packets vanish silently."""
        self.damaged.add(host)
        ip("-n", self.bridge_ns, "link", "set", f"p-{host}", "down")

    def reconnect(self, host: str) -> None:
        ip("-n", self.bridge_ns, "link", "set", f"p-{host}", "up")

    def crash(self, host: str) -> List[int]:
        """Everything running on the host dies at once (SIGKILL by PID)."""
        self.damaged.add(host)
        return kill_all(self.ns(host))

    def clear(self, host: str, timeout: float = 10) -> None:
        """Kill whatever runs on the host, until nothing does."""
        deadline = time.monotonic() + timeout
        while kill_all(self.ns(host)) and time.monotonic() < deadline:
            time.sleep(0.1)

    def pids(self, host: str) -> List[int]:
        return pids_in(self.ns(host))

    def popen(self, host: str, argv: Sequence[str], env: Mapping[str, str], log: Path,
              limit_s: int = DAEMON_LIMIT_S) -> subprocess.Popen:
        """``argv`` on the host under ``timeout``, SPARK_LOCAL_IP its own address.
        ``ip netns exec`` becomes ``timeout``, which gets SIGTERM when this process dies
        (even by SIGKILL: PR_SET_PDEATHSIG survives the exec) and passes it on to its
        process group (the daemon and what it started), SIGKILL ``KILL_AFTER_S`` later."""
        full_env = {**env, "SPARK_LOCAL_IP": self.address[host]}
        with open(log, "ab") as out:
            p = subprocess.Popen(["ip", "netns", "exec", self.ns(host), "timeout", "-k",
                                  str(KILL_AFTER_S), "-s", "KILL", str(limit_s), *argv],
                                 env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        self.procs.append(p)
        return p

    def destroy(self) -> None:
        for host in self.names:
            kill_all(self.ns(host))
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for ns in [*map(self.ns, self.names), self.bridge_ns]:
            _delete(ns)


# Run on the master's host (its UI listens only there): the addresses of the workers the
# master counts as alive, one a line.
_ALIVE = ("import json, sys, urllib.request\n"
          "page = json.load(urllib.request.urlopen(sys.argv[1], timeout=5))\n"
          "print('\\n'.join(w['host'] for w in page['workers'] if w['state'] == 'ALIVE'))")


class SparkHosts:
    """A Spark standalone master and workers on ``Hosts``; the driver runs on its own
    host too. Small memory everywhere: the machine is shared. One cluster serves several
    tests: ``begin`` gives each its own driver log and view of the executors' logs,
    ``repair`` brings back the workers a test cut off or killed."""

    PORT = 7077
    UI_PORT = 8080

    def __init__(self, hosts: Hosts, spark_home: str, root: Path,
                 daemon_opts: Sequence[str] = ()) -> None:
        self.hosts, self.root = hosts, root
        root.mkdir(parents=True, exist_ok=True)
        self.spark_class = os.path.join(spark_home, "bin", "spark-class")
        self.env = {**os.environ, "SPARK_HOME": spark_home, "SPARK_LOG_DIR": str(root),
                    "SPARK_DAEMON_MEMORY": "256m",
                    "SPARK_DAEMON_JAVA_OPTS": " ".join([JVM_OPTS, *daemon_opts]),
                    "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false"}
        self.url = f"spark://{hosts.address['master']}:{self.PORT}"
        self.master: subprocess.Popen | None = None
        self.workers: Dict[str, Dict[str, str]] = {}  # host -> how it was started
        self.driver_log = self.log("driver")
        self._apps_before: Set[Path] = set()
        self._master_log_from = 0

    def log(self, host: str) -> Path:
        return self.root / f"{host}.log"

    def work_dir(self, host: str) -> Path:
        return self.root / f"work-{host}"

    def start_master(self) -> None:
        self.master = self.hosts.popen(
            "master", [self.spark_class, "org.apache.spark.deploy.master.Master", "--host",
                       self.hosts.address["master"], "--port", str(self.PORT),
                       "--webui-port", str(self.UI_PORT)], self.env, self.log("master"))

    def start_worker(self, host: str, cores: int = 1, memory: str = "640m") -> None:
        self.workers[host] = {"cores": str(cores), "memory": memory}
        self.hosts.popen(host, [self.spark_class, "org.apache.spark.deploy.worker.Worker",
                                self.url, "--host", self.hosts.address[host], "--cores",
                                str(cores), "--memory", memory, "--webui-port", "8081",
                                "--work-dir", str(self.work_dir(host))],
                         self.env, self.log(host))

    def wait_for(self, pattern: str, count: int, timeout: float = 240) -> None:
        """Until the master's log has ``count`` lines matching ``pattern`` (since
        ``begin``)."""
        deadline = time.monotonic() + timeout
        log = self.log("master")
        while time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError), open(log, "rb") as f:
                f.seek(self._master_log_from)
                text = f.read().decode("utf-8", "replace")
            if len(re.findall(pattern, text)) >= count:
                return
            # its process, not the namespace's PIDs: just after the start, `ip netns exec`
            # may not have entered the namespace yet (that read as "exited", empty log)
            if self.master is None or self.master.poll() is not None:
                raise RuntimeError(f"the spark master exited: {text[-2000:]}")
            time.sleep(0.3)
        raise RuntimeError(f"no {count} x {pattern!r} in the master's log in {timeout} s")

    def alive_workers(self) -> List[str] | None:
        """The addresses of the workers the master counts as alive (sorted), from its
        JSON page; None while it does not answer."""
        url = f"http://{self.hosts.address['master']}:{self.UI_PORT}/json/"
        r = subprocess.run(["ip", "netns", "exec", self.hosts.ns("master"), sys.executable,
                            "-I", "-S", "-c", _ALIVE, url], capture_output=True, text=True,
                           timeout=30)
        return sorted(r.stdout.split()) if r.returncode == 0 else None

    def repair(self, timeout: float = 180) -> None:
        """Every worker host a test cut off or crashed (or whose worker the master lost)
        gets its link back and a fresh worker, the old one's processes killed; returns
        once the master counts exactly one live worker on each worker host."""
        want = sorted(self.hosts.address[h] for h in self.workers)
        alive = self.alive_workers() or []
        for host in sorted(self.workers):
            if host in self.hosts.damaged or self.hosts.address[host] not in alive:
                # link first: the master then sees the old worker's connection close
                self.hosts.reconnect(host)
                self.hosts.clear(host)
                self.start_worker(host, int(self.workers[host]["cores"]),
                                  self.workers[host]["memory"])
        self.hosts.damaged.clear()
        self.hosts.clear("driver")
        deadline = time.monotonic() + timeout
        while alive != want:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the master counts workers {alive}, not {want}")
            time.sleep(0.5)
            alive = self.alive_workers()

    def begin(self, root: Path) -> None:
        """A test starts: its driver's output goes to ``root``/driver.log, and only the
        applications started from now on count (executor logs, master log lines)."""
        self.driver_log = root / "driver.log"
        self._apps_before = {d for h in self.workers for d in self.work_dir(h).glob("app-*")}
        log = self.log("master")
        self._master_log_from = log.stat().st_size if log.exists() else 0

    def submit(self, argv: Sequence[str], env: Mapping[str, str],
               limit_s: int = 400) -> subprocess.Popen:
        """A command on the driver's host (``invindex build ...``), output in the
        driver log."""
        return self.hosts.popen("driver", argv, env, self.driver_log, limit_s)

    def driver_output(self) -> str:
        return self.driver_log.read_text("utf-8", "replace")

    def executor_logs(self, host: str) -> List[Path]:
        """The host's executors' logs, of the applications started since ``begin``."""
        return sorted(log for app in self.work_dir(host).glob("app-*")
                      if app not in self._apps_before for log in app.glob("*/stderr"))
