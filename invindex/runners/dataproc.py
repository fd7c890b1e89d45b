"""``--runner dataproc``: the streaming job submitted to an existing Dataproc cluster.

Why not mrjob's Dataproc runner: mrjob 0.7.4 imports ``google.cloud.dataproc_v1beta2``
(removed from google-cloud-dataproc years ago) and google-cloud-logging; with the
google-cloud-dataproc 5.x that ``invindex cluster`` needs, mrjob reports the libraries
missing. So this module submits the same Hadoop-streaming arguments that
``invindex hadoop-command`` prints (``hadoop_command.streaming_args``) as a Dataproc
HadoopJob through google-cloud-dataproc's v1 ``JobControllerClient``: mapper.py,
reducer.py and invindex.zip uploaded to ``cloud_tmp_dir`` and shipped with ``-files``;
counters read from the job's driver output. It never creates a cluster (``invindex
cluster up`` does, shape ``dataproc``), so none can be left running; Ctrl-C/SIGTERM
cancel the job. No Dataproc emulator exists: tests check the request and drive a fake
client.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any, Dict, List

from ..core import indexfmt
from ..errors import InvindexError, UsageError
from . import cluster
from .base import BuildRequest, BuildResult
from .hadoop_command import DATAPROC_JAR, parse_counters, shipped_files, streaming_args

log = logging.getLogger(__name__)

OPT_NAMES = {"cluster_id", "region", "project_id", "cloud_tmp_dir", "python_bin",
             "check_cluster_every", "labels"}
_DONE, _FAILED = {"DONE"}, {"ERROR", "CANCELLED"}


def settings(opts: Dict[str, Any], output: str | None) -> Dict[str, Any]:
    """The runner's settings, with one-line errors for what is missing."""
    unknown = sorted(set(opts) - OPT_NAMES)
    if unknown:
        raise UsageError(f"unknown option(s) for the dataproc runner: {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(OPT_NAMES))})")
    s = {"python_bin": "python3", "check_cluster_every": 10.0, "labels": {}, **opts}
    if not s.get("cluster_id"):
        raise UsageError("the dataproc runner submits to an existing cluster: --cluster-id "
                         "NAME (e.g. one made by `invindex cluster up` with shape dataproc)")
    if not s.get("region"):
        raise UsageError("the dataproc runner needs --region (the cluster's region)")
    s["project_id"] = s.get("project_id") or os.environ.get("GOOGLE_CLOUD_PROJECT") or \
        _default_project()
    if not s.get("cloud_tmp_dir"):
        if not output:
            raise UsageError("the dataproc runner needs -O cloud_tmp_dir=gs://BUCKET/PREFIX/ "
                             "for a local OUTPUT")
        bucket = output.split("://", 1)[1].split("/", 1)[0]
        s["cloud_tmp_dir"] = f"gs://{bucket}/tmp/invindex/"
    if not str(s["cloud_tmp_dir"]).startswith("gs://"):
        raise UsageError("the dataproc runner's cloud_tmp_dir must be a gs:// URI")
    return s


def _default_project() -> str:
    try:
        import google.auth

        _, project = google.auth.default()
    except Exception as e:  # no ADC: say what to set
        raise InvindexError(f"no Google Cloud credentials/project found ({e.__class__.__name__}"
                            "): run `gcloud auth application-default login` or set "
                            "GOOGLE_APPLICATION_CREDENTIALS, and --project") from None
    if not project:
        raise UsageError("the dataproc runner needs --project (none in the credentials)")
    return project


def job_client(region: str) -> Any:
    """google-cloud-dataproc's JobControllerClient for the region's endpoint."""
    try:
        from google.cloud import dataproc_v1
    except ImportError:
        raise InvindexError("the dataproc runner needs google-cloud-dataproc: pip install "
                            "'invindex[provision]'") from None
    return dataproc_v1.JobControllerClient(
        client_options={"api_endpoint": f"{region}-dataproc.googleapis.com:443"})


def submit_request(s: Dict[str, Any], args: List[str], job_id: str) -> Dict[str, Any]:
    """The SubmitJobRequest, as a dict the client accepts (and tests can compare)."""
    return {
        "project_id": s["project_id"], "region": s["region"], "request_id": job_id,
        "job": {
            "reference": {"project_id": s["project_id"], "job_id": job_id},
            "placement": {"cluster_name": s["cluster_id"]},
            "hadoop_job": {"main_jar_file_uri": DATAPROC_JAR, "args": args},
            "labels": {"managed-by": "invindex", **s["labels"]},
        },
    }


def _state(job: Any) -> str:
    state = job.status.state
    return getattr(state, "name", str(state))


def _driver_output(uri: str) -> str:
    """The job's driver output: ``driveroutput.000000000`` and following objects."""
    from ..storage import get_store, parse_uri

    loc = parse_uri(uri)
    store = get_store(loc)
    chunks = [store.read_bytes(i.key) for i in sorted(store.list(loc.key), key=lambda i: i.key)]
    return b"".join(chunks).decode("utf-8", "replace")


def check(req: BuildRequest) -> None:
    settings(dict(req.runner_options), req.output_uri)


def run(req: BuildRequest) -> BuildResult:
    from ..storage import get_store, parse_uri
    from .package import write_streaming_files

    inputs, output = req.job_inputs, req.output_uri
    s = settings(dict(req.runner_options), output)
    local = [i for i in inputs if not i.startswith("gs://")]
    if local:
        raise UsageError(f"the dataproc runner reads gs:// inputs; upload {local[0]} first "
                         "(invindex stage cp -r DIR gs://BUCKET/PREFIX/)")
    run_id = f"invindex-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = f"{s['cloud_tmp_dir'].rstrip('/')}/{run_id}"
    ship_dir = req.workdir / "ship"
    write_streaming_files(ship_dir)
    a = req.analyzer
    if a.stopwords_name not in (None, "english"):
        import shutil

        shutil.copyfile(a.stopwords_name, ship_dir / os.path.basename(a.stopwords_name))
    tmp_loc = parse_uri(tmp)
    store = get_store(tmp_loc)
    files = shipped_files(tmp, a)
    for uri in files:
        store.put_file(str(ship_dir / uri.rsplit("/", 1)[1]), parse_uri(uri).key)
    out_uri = output or f"{tmp}/output"
    args = streaming_args(inputs, out_uri, files, a, req.strict, s["python_bin"],
                          req.parts, job_name=run_id)
    client = job_client(s["region"])
    job_id = run_id
    try:
        with cluster.interruptible():
            job = client.submit_job(request=submit_request(s, args, job_id))
            log.info("submitted Dataproc job %s to cluster %s", job_id, s["cluster_id"])
            try:
                while _state(job) not in _DONE | _FAILED:
                    time.sleep(float(s["check_cluster_every"]))
                    job = client.get_job(project_id=s["project_id"], region=s["region"],
                                         job_id=job_id)
            except KeyboardInterrupt:
                try:
                    client.cancel_job(project_id=s["project_id"], region=s["region"],
                                      job_id=job_id)
                    log.warning("cancelled Dataproc job %s (cluster %s left running)",
                                job_id, s["cluster_id"])
                except Exception as e:
                    log.warning("could not cancel Dataproc job %s: %s", job_id, e)
                raise
        if _state(job) in _FAILED:
            raise InvindexError(f"Dataproc job {job_id} {_state(job).lower()}: "
                                f"{job.status.details or 'no details'} (driver output: "
                                f"{job.driver_output_resource_uri})")
        counters = parse_counters(_driver_output(job.driver_output_resource_uri))
        if output is None:
            out_loc = parse_uri(out_uri)
            parts = sorted(i.key for i in store.list(out_loc.key.rstrip("/") + "/")
                           if i.key.rsplit("/", 1)[-1].startswith("part-"))
            for n, key in enumerate(parts):
                store.get_file(key, req.staging / indexfmt.part_name(n))
    finally:
        for info in list(store.list(tmp_loc.key.rstrip("/") + "/")):
            try:
                store.delete(info.key)
            except Exception as e:  # leftovers in a tmp prefix are not worth a failure
                log.warning("could not delete %s: %s", store.uri(info.key), e)
    return BuildResult(counters, {"scheme": indexfmt.HADOOP_KEYFIELD})
