"""``invindex cluster plan|up|status|down|simulate|fields``: compute clusters from a spec."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict

from ..errors import InvindexError, UsageError


def register(sub) -> None:
    p = sub.add_parser(
        "cluster", help="bring compute clusters up and down, simulate their autoscaling",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Create, inspect and delete a compute cluster described by a TOML spec "
                    "(shapes: emr, fleet, instance, rds-postgres, dynamodb on AWS; gce, dataproc, "
                    "cloudsql-postgres on GCP; azure-vm).\n"
                    "Everything is tagged invindex-cluster=NAME and managed-by=invindex; "
                    "`down` finds it by those tags.\nCredentials come from each SDK's "
                    "default chain; invindex never reads or stores keys.",
        epilog="`invindex cluster fields` lists every spec field with its default; "
               "sample_data/clusters/ has one spec per shape.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True

    v = verbs.add_parser("plan", help="show what `up` would create, update or refuse to "
                                      "replace (read-only calls only)")
    v.add_argument("spec", metavar="SPEC")
    v.add_argument("--full", action="store_true", help="print every request body")
    _format(v)
    v.add_argument("--input", nargs="+", metavar="URI",
                   help="size the cluster for these inputs instead (files, directories, "
                        "s3:// gs:// az:// objects or prefixes): nodes, --parts, time, "
                        "instance-hours")
    v.add_argument("--within", type=float, default=60.0, metavar="MINUTES",
                   help="with --input: propose the smallest cluster that finishes within "
                        "this (default 60)")
    _rate(v)
    v.set_defaults(func=run_plan)

    v = verbs.add_parser("up", help="create what is missing, update what changed, delete what "
                                    "the spec no longer names (idempotent; rolls back on "
                                    "failure)")
    v.add_argument("spec", metavar="SPEC")
    _format(v)
    v.add_argument("--yes", action="store_true",
                   help="do not ask on a terminal before deleting what the spec no longer "
                        "names")
    v.set_defaults(func=run_up)

    for verb, what in (("status", "show every resource tagged for the cluster"),
                       ("down", "delete every resource tagged for the cluster")):
        v = verbs.add_parser(verb, help=what)
        v.add_argument("target", metavar="NAME|SPEC",
                       help="cluster name (located through the record `up` keeps), or its "
                            "spec file (works with no local record)")
        if verb == "status":
            _format(v)
        else:
            v.add_argument("--yes", action="store_true",
                           help="do not ask on a terminal before deleting")
        v.set_defaults(func=run_status if verb == "status" else run_down)

    v = verbs.add_parser(
        "simulate", help="replay a workload through the spec's autoscaling rules",
        description="Replay a CPU-utilization trace or a batch job through the spec's "
                    "scaling policy, alarms, cooldown and min/max; print the instance count "
                    "over time, the finish time and instance-hours.")
    v.add_argument("spec", metavar="SPEC")
    v.add_argument("--workload", required=True, metavar="CSV|job:SIZE@RATE|job:auto",
                   help="a CSV trace (seconds,cpu[,instances]), e.g. job:200GB@25MB/s, or "
                        "job:auto: the --input files at the sizing's per-node rate")
    v.add_argument("--input", nargs="+", metavar="URI", help="the inputs of job:auto")
    _rate(v)
    v.add_argument("--png", metavar="PATH", help="also plot to PATH (needs matplotlib)")
    v.set_defaults(func=run_simulate)

    v = verbs.add_parser("fields", help="list every spec field, its default and meaning")
    v.set_defaults(func=run_fields)


def _format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="json: the resources and their ids as one JSON object on stdout")


def _rate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=float, metavar="MB/s",
                        help="bytes one node indexes per second, in MB/s (default: the "
                             "streaming scripts' measured rate per vCPU x the node's vCPUs)")


def _print_json(data: Dict[str, Any]) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def _echo(args: argparse.Namespace):
    return (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr))


def run_plan(args: argparse.Namespace) -> int:
    from ..provision import api
    from ..provision.spec import load_spec

    spec = load_spec(args.spec)
    if args.input:
        return _size(spec, args)
    plan, changes = api.diff(spec)
    if args.format == "json":
        _print_json({"cluster": plan.spec.name, "location": plan.location, "resources": [
            {"kind": c.step.kind, "name": c.step.name, "action": c.action, "id": c.rid,
             "fields": {k: {"current": old, "wanted": new} for k, (old, new) in
                        (c.replace if c.action == "replace" else c.update).items()}}
            for c in changes]})
        return 0
    print(plan.text(full=args.full, changes=changes))
    return 0


def run_up(args: argparse.Namespace) -> int:
    from ..provision import api
    from ..provision.spec import load_spec

    spec = load_spec(args.spec)
    echo = _echo(args) if args.format == "text" else (lambda line: None)
    out = api.up(spec, echo=echo, confirm=None if args.yes or not sys.stdin.isatty() else
                 lambda removals: _confirm("up", spec.name, [
                     (c.step.kind, f"{c.rid} (no longer in the spec)") for c in removals]))
    rows = [{"action": action, "kind": kind, "name": name, "id": rid}
            for action, kind, name, rid in out.resources]
    if args.format == "json":
        _print_json({"cluster": spec.name, "resources": rows, "connect": out.endpoint})
        return 0
    there = len(out.existing) + len(out.updated)
    print(f"cluster {spec.name}: {len(out.created)} created, {there} already there"
          + (f", {len(out.updated)} updated" if out.updated else "")
          + (f", {len(out.removed)} removed (no longer in the spec)" if out.removed else ""))
    for r in rows:
        print(f"  {r['action']:8} {r['kind']} {r['name']} {r['id']}")
    if out.endpoint:
        print(out.endpoint)
    return 0


def _size(spec, args: argparse.Namespace) -> int:
    from ..provision import sizing

    cluster = sizing.cluster_of(spec)
    rate = sizing.node_rate(cluster, args.rate)
    size, files, packed = sizing.input_size(args.input)
    if args.within <= 0:
        raise UsageError("--within must be positive (minutes)")
    options = sizing.propose(cluster, size, rate, args.within * 60)
    best = sizing.propose_best(cluster, size, rate, args.within * 60)
    print(sizing.report(spec, size, files, packed, rate, options, best))
    return 0


def _locate(target: str):
    from ..provision import api
    from ..provision.spec import load_spec

    if target.endswith(".toml") or Path(target).is_file():
        spec = load_spec(target)
        return spec.name, api.location_of(spec.name, spec)
    return target, api.location_of(target)


def run_status(args: argparse.Namespace) -> int:
    from ..provision import api

    name, location = _locate(args.target)
    found = api.status(name, location)
    if args.format == "json":
        _print_json({"cluster": name, "location": location, "resources": [
            {"kind": kind, "id": rid, "status": line} for kind, rid, line in found]})
        return 0
    where = ", ".join(f"{k} {v}" for k, v in location.items() if v)
    print(f"cluster {name} ({where}): " + ("nothing found" if not found else
                                            f"{len(found)} resource(s)"))
    for kind, _, line in found:
        print(f"  {kind:22} {line}")
    return 0


def run_down(args: argparse.Namespace) -> int:
    from ..provision import api

    name, location = _locate(args.target)
    if not args.yes and sys.stdin.isatty():
        _confirm("down", name, api.inventory(name, location))
    kept: list = []
    gone = api.down(name, location, echo=_echo(args), kept=kept)
    print(f"cluster {name}: {len(gone)} resource(s) deleted")
    for line in kept:
        print(f"  {line}")
    return 0


def _confirm(verb: str, name: str, found) -> None:
    """On a terminal, show what `verb` would delete and ask (`--yes` or a pipe skips
    this); anything but yes cancels before any change."""
    if not found:
        return
    print(f"cluster {name}: {verb} will delete {len(found)} resource(s):", file=sys.stderr)
    for kind, rid in found:
        print(f"  {kind} {rid}", file=sys.stderr)
    print("delete them? [y/N] ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise InvindexError(f"{verb}: cancelled, nothing of cluster {name} was "
                            f"{'deleted' if verb == 'down' else 'changed'}")


def run_simulate(args: argparse.Namespace) -> int:
    from ..provision.simulate import policy_for, report, simulate
    from ..provision.spec import load_spec
    from ..provision.workload import parse_workload

    spec = load_spec(args.spec)
    if "scaling" not in spec.sections:
        raise UsageError(f"shape {spec.shape} has no autoscaling to simulate "
                         "(use emr, fleet or dataproc)")
    if args.workload == "job:auto":
        workload = _auto_job(spec, args)
    else:
        workload = parse_workload(args.workload, spec.scaling["desired"])
    result = simulate(policy_for(spec, workload.task_seconds), workload)
    print(report(result, spec.name))
    if args.png:
        from ..provision.plot import write_png

        write_png(result, args.png)
        print(f"plot: {args.png}")
    return 0


def _auto_job(spec, args: argparse.Namespace):
    """The inputs' size at the sizing's per-node rate: what `plan --input` assumes."""
    from ..provision import sizing
    from ..provision.workload import job_workload

    if not args.input:
        raise UsageError("--workload job:auto needs --input URI...")
    rate = sizing.node_rate(sizing.cluster_of(spec), args.rate)
    size, _, _ = sizing.input_size(args.input)
    return job_workload(size, rate, f"job of {size / 1e6:,.1f} MB at {rate / 1e6:g} MB/s")


def run_fields(args: argparse.Namespace) -> int:
    from ..provision.spec import describe_fields

    print(describe_fields())
    return 0
