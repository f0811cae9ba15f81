"""Benchmark the campus sandbox's own memory as its clock moves on (issue 14, item 6).

    python benchmarks/sandbox_memory.py                        # 1x: days 1, 30, 90, 180; 5x: 180
    python benchmarks/sandbox_memory.py --scale 10000 --days 1 30 90
    python benchmarks/sandbox_memory.py --scale 50000 --days 1 8 15

Each scale runs in a fresh child process that does what a long-running ``python -m sandbox
serve`` does: build the college at ``days=1``, ``warm()`` it (card transactions and every
served view), then advance the clock to each checkpoint and ``warm()`` again. At every
checkpoint it prints the process's resident memory now (``VmRSS``) and its peak so far
(``ru_maxrss``), and the growth per simulated day since the previous checkpoint. When the
last checkpoint is short of ``--target`` days, the peak at the target is extrapolated
linearly from the measured growth between the last two checkpoints, and marked as such.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(seed: int, scale: int, start: str, checkpoints: list[int]) -> None:
    """Runs in the child: one JSON line per checkpoint on stdout."""
    from sandbox import Sandbox

    began = time.perf_counter()
    sandbox = Sandbox(seed=seed, scale=scale, start=start, days=checkpoints[0])
    sandbox.warm()
    done = checkpoints[0]
    for day in checkpoints:
        if day > done:
            sandbox.advance(day - done)
            sandbox.warm()
            done = day
        line = {
            "scale": scale,
            "days": day,
            "rss_mb": round(_rss_mb()),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "transactions": len(sandbox.rows("campus_card", "transactions")),
            "elapsed_s": round(time.perf_counter() - began),
        }
        print(json.dumps(line), flush=True)


def measure(seed: int, scale: int, start: str, checkpoints: list[int], target: int) -> list:
    command = [sys.executable, __file__, "--child", "--seed", str(seed), "--scale", str(scale)]
    command += ["--start", start, "--days", *map(str, checkpoints)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    points, previous = [], None
    for raw in proc.stdout:
        point = json.loads(raw)
        growth = ""
        if previous:
            per_day = (point["rss_mb"] - previous["rss_mb"]) / (point["days"] - previous["days"])
            point["mb_per_day"] = round(per_day, 1)
            growth = f"  +{per_day:.1f} MB/day since day {previous['days']}"
        print(
            f"scale {scale:>6}  day {point['days']:>4}  rss {point['rss_mb']:>6} MB  "
            f"peak {point['peak_mb']:>6} MB  {point['transactions']:>10,} card rows  "
            f"{point['elapsed_s']:>5} s{growth}",
            flush=True,
        )
        points.append(point)
        previous = point
    if proc.wait():
        raise SystemExit(f"child failed (exit {proc.returncode})")
    last = points[-1]
    if last["days"] < target and len(points) >= 2:
        estimate = last["peak_mb"] + last["mb_per_day"] * (target - last["days"])
        print(
            f"scale {scale:>6}  day {target:>4}  peak ≈ {estimate:,.0f} MB  (extrapolated from "
            f"+{last['mb_per_day']} MB/day between days {points[-2]['days']} and {last['days']})",
            flush=True,
        )
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--scale", type=int, nargs="*", default=None)
    parser.add_argument("--start", default="2026-09-01")
    parser.add_argument("--days", type=int, nargs="+", default=None, help="checkpoints")
    parser.add_argument("--target", type=int, default=180, help="extrapolate to this day")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.seed, args.scale[0], args.start, sorted(args.days))
        return
    print(
        f"{dt.date.today()}  {platform.node()}  {os.cpu_count()} CPUs  "
        f"Python {platform.python_version()}",
        flush=True,
    )
    if args.scale is None:  # the figures: 1x over a term, 5x at its end
        runs = [(10000, args.days or [1, 30, 90, 180]), (50000, args.days or [1, 180])]
    else:
        runs = [(scale, args.days or [1, 30, 90, 180]) for scale in args.scale]
    for scale, checkpoints in runs:
        measure(args.seed, scale, args.start, sorted(checkpoints), args.target)


if __name__ == "__main__":
    main()
