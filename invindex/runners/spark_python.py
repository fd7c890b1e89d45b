"""The default ``python_bin`` of ``--runner spark``: this Python, importing pyspark from
its installed (compiled) package instead of from ``pyspark.zip``.

Spark puts ``$SPARK_HOME/python/lib/pyspark.zip`` and py4j's zip first on the
PYTHONPATH of the driver's Python and of every Python worker it starts, and Python
compiles a zip's modules from source at every import (zipimport neither reads
``__pycache__`` nor writes bytecode): ~1.4 s of CPU for ``pyspark.worker`` against
~0.3 s compiled, paid by the driver and by each executor's Python daemon. pip's pyspark
has the same modules installed, with their bytecode. The default ``python_bin`` is a
small shell script that puts a directory of links to the installed ``pyspark`` and
``py4j`` ahead of the zips, then runs this Python; it does so only when the Spark that
started it (``$SPARK_HOME``) is that very installation, so the Python and JVM sides are
one version. A ``python_bin`` or ``task_python_bin`` you set is used as given.
"""

from __future__ import annotations

import importlib.util
import shlex
import sys
from pathlib import Path


def _package_dir(name: str) -> Path | None:
    """Where package ``name`` is installed (found, not imported), or None."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin or not spec.origin.endswith("__init__.py"):
        return None
    return Path(spec.origin).resolve().parent


def python_bin(workdir: Path) -> str:
    """Write the script under ``workdir`` and return its path (this Python itself when
    pyspark is not installed here)."""
    spark_home = _package_dir("pyspark")
    if spark_home is None:
        return sys.executable
    root = workdir / "spark-python"
    links = root / "lib"
    links.mkdir(parents=True, exist_ok=True)
    for package in (spark_home, _package_dir("py4j")):
        link = links / package.name if package else None
        if link is not None and not link.is_symlink():
            link.symlink_to(package, target_is_directory=True)
    script = root / "python"
    q = shlex.quote
    script.write_text(
        "#!/bin/sh\n"
        "# invindex's default python_bin for Spark (invindex/runners/spark_python.py):\n"
        "# the installed, compiled pyspark before $SPARK_HOME/python/lib/pyspark.zip\n"
        f'if [ "$(cd "$SPARK_HOME" 2>/dev/null && pwd -P)" = {q(str(spark_home))} ]; then\n'
        f'  PYTHONPATH={q(str(links))}"${{PYTHONPATH:+:$PYTHONPATH}}"; export PYTHONPATH\n'
        "fi\n"
        f'exec {q(sys.executable)} "$@"\n', "utf-8")
    script.chmod(0o755)
    return str(script)
