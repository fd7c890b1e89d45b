"""Draw a simulation to PNG with matplotlib (optional: only when asked for)."""

from __future__ import annotations

from pathlib import Path

from .deps import need
from .simulate import Result, clock


def write_png(result: Result, path: str | Path, title: str = "") -> None:
    matplotlib = need("matplotlib", "--png")
    matplotlib.use("Agg")
    plt = need("matplotlib.pyplot", "--png")
    p = result.policy
    end = result.finish if result.finish is not None else result.counts[-1][0] + p.period
    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(9, 5.5))
    xs = [t / 60 for t, _ in result.counts] + [end / 60]
    ys = [c for _, c in result.counts] + [result.counts[-1][1]]
    ax1.step(xs, ys, where="post", color="tab:blue")
    ax1.set_ylabel("instances")
    ax1.set_ylim(0, p.max + 1)
    ax1.set_title(title or f"{p.mode} scaling: finish {clock(end)}, "
                           f"{result.instance_hours:.2f} instance-hours")
    # the alarms watch utilization, or free capacity (100 - it) for a scale-out-when-low metric
    points = [(t / 60, v if p.out_above else 100 - v) for t, v in result.datapoints
              if v is not None]
    ax2.plot([x for x, _ in points], [v for _, v in points], marker=".", color="tab:orange",
             label=f"{p.metric} per period (simulated)")
    if p.mode == "simple":
        for y, label in ((p.out_threshold, "scale out"), (p.in_threshold, "scale in")):
            ax2.axhline(y, linestyle="--", color="grey", linewidth=0.8)
            ax2.text(0, y, f" {label} {y:g}", va="bottom", fontsize=8, color="grey")
    ax2.set_ylim(0, 105)
    ax2.set_xlabel("minutes")
    ax2.set_ylabel("%")
    ax2.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
