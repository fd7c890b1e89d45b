"""Temporary files and directories that say who owns them, and the sweep of those
whose owner died.

Every temporary a build makes (its work directory, the staging directory beside the
output, the old index during a swap, the output's lock) carries ``<host>-<pid>`` in its
name. A build killed with SIGKILL cannot clean up; the next build that looks in the
same place removes what belongs to a process of this host that no longer exists, and
says what it removed. (A recycled pid only delays the sweep: its owner looks alive.)
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import List

log = logging.getLogger(__name__)

WORK_PREFIX = "invindex-work-"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:24] or "host"


def owner_tag() -> str:
    """``<host>-<pid>`` of this process, for temporary names."""
    return f"{_host()}-{os.getpid()}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_is_dead(name: str) -> bool:
    """True when ``name`` carries this host's tag with the pid of a process that is gone."""
    m = re.search(rf"(?:^|[-.]){re.escape(_host())}-(\d+)(?:[-.]|$)", name)
    return bool(m) and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1)))


def work_dir() -> Path:
    """A private scratch directory in the system temporary directory."""
    return Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{owner_tag()}-"))


def sweep(directory: Path, prefix: str) -> List[Path]:
    """Remove the entries of ``directory`` named ``prefix...`` whose owner is dead."""
    removed: List[Path] = []
    try:
        entries = [p for p in directory.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    for p in entries:
        if not owner_is_dead(p.name[len(prefix):]):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    if removed:
        log.warning("removed %d temporary file(s) left by a killed build: %s", len(removed),
                    ", ".join(str(p) for p in removed))
    return removed


def sweep_work_dirs() -> List[Path]:
    return sweep(Path(tempfile.gettempdir()), WORK_PREFIX)
