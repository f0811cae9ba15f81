"""Campus-card transactions: rows landed per second, next to the database's and the API's limits.

    .venv/bin/python benchmarks/collect_campus_card.py [--scale 10000] [--days 21] [--repeat 5]

Starts the campus sandbox as its own process (`python -m sandbox serve`) and an
embedded PostgreSQL under a temporary XIAOBEN_HOME (or uses XIAOBEN_DATABASE_URL), then measures,
on the same rows:

1. **api**: the sandbox serving every page of transactions the way the connector asks for them
   (31-day windows, PageSize 1000, one keep-alive session), bodies read and thrown away;
2. **collect**: `connectors.collect.collect("campus_card", "transactions", "full")` into an
   empty raw table: fetching, validation, hashing and landing, fetching overlapping loading;
3. **copy**: the rows that step 2 landed, dumped to a local file in COPY format, then streamed
   back with one plain COPY into an empty table of the same shape (PK and FK included).

Each step also reports the CPU seconds the collector, the PostgreSQL server and the sandbox
spent (from /proc, Linux), which is what says where a shortfall comes from on a small machine.
`--repeat N` runs the three steps N times and reports the median run and each step's best.
Prints a JSON summary (and, with --profile, where the collect step's Python time went).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a process (and, with `children`, of its exited, reaped children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(parent: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    kids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue
    return kids


@contextmanager
def cpu_seconds(parties: dict[str, int], out: dict):
    """CPU seconds each party (a process; `postgres` = the server and its backends) spent."""
    postmaster = parties.get("postgres")

    def sample() -> dict[str, float]:
        seen = {name: _cpu(pid) for name, pid in parties.items() if name != "postgres"}
        if postmaster:
            # live backends, plus the postmaster with the backends it has reaped
            seen["postgres"] = _cpu(postmaster, True) + sum(_cpu(p) for p in _children(postmaster))
        return seen

    before = sample()
    yield
    after = sample()
    out["cpu_seconds"] = {k: round(after[k] - before.get(k, 0.0), 2) for k in after}
    out["load_average"] = os.getloadavg()[0]


def start_sandbox(args, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "sandbox", "serve", "--port", str(port),
           "--seed", str(args.seed), "--scale", str(args.scale), "--start", args.start,
           "--days", str(args.days)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "sandbox ready" not in line:
        proc.kill()
        raise SystemExit(f"sandbox did not start: {line}")
    return proc


def measure_api(base: str, key: str, secret: str) -> dict:
    """Every page the connector would request, read and discarded: the API's limit."""
    import requests

    from connectors.extract import split_window
    from connectors.spec import spec_for
    from include.rules.dates import TZ, format_date

    res = spec_for("campus_card").resources["transactions"]
    c = res.cursor
    since = datetime.fromisoformat(c.initial).replace(tzinfo=TZ)
    until = datetime.now(TZ) + c.until_margin
    session = requests.Session()
    token = session.post(f"{base}/api/TA_Login", json={"SysCode": key, "SysPwd": secret}).json()
    params = {"Token": token["Token"], "PageSize": res.pagination.size}
    rows = requests_made = 0
    started = time.perf_counter()
    for lo, hi in split_window(since, until, c.max_span):
        window = {c.since_param: format_date(lo, c.param_format),
                  c.until_param: format_date(hi, c.param_format)}  # fmt: skip
        page = 1
        while True:
            body = session.get(f"{base}{res.path}", params={**params, **window, "PageNo": page})
            requests_made += 1
            n = body.content.count(b'"BackJnl"')
            rows += n
            if n < res.pagination.size:
                break
            page += 1
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds,
            "requests": requests_made}  # fmt: skip


def measure_collect(url: str, base: str, key: str, secret: str, profile: bool) -> dict:
    from connectors.client import Credentials
    from connectors.collect import collect

    creds = Credentials(base, key, secret)
    options = {"rate_limit": 1000}  # the sandbox enforces none; the YAML's 50/s is for production
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = collect("campus_card", "transactions", "full", credentials=creds, db_url=url,
                     client_options=options)  # fmt: skip
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    out = {"rows": result["landed"], "fetched": result["fetched"], "seconds": seconds,
           "rows_per_second": result["landed"] / seconds, "requests": result["client"]["requests"],
           "pull_id": result["pull_id"]}  # fmt: skip
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(18)
        out["profile"] = text.getvalue()
    return out


def measure_copy(url: str, workdir: Path) -> dict:
    """The landed rows, dumped to a local file, then one plain COPY into an empty twin table."""
    import psycopg

    path = workdir / "transactions.copy"
    with psycopg.connect(url, autocommit=True) as conn:
        with path.open("wb") as f, conn.cursor().copy(
            "copy raw_campus_card.transactions to stdout"
        ) as copy:  # fmt: skip
            for chunk in copy:
                f.write(chunk)
        conn.execute("drop schema if exists bench cascade")
        conn.execute("create schema bench")
        conn.execute(
            "create table bench.copy_target (like raw_campus_card.transactions including all)"
        )
        conn.execute(
            "alter table bench.copy_target add foreign key (pull_id)"
            " references landing.run_log (pull_id)"
        )
        conn.execute("checkpoint")
        started = time.perf_counter()
        with path.open("rb") as f, conn.cursor().copy("copy bench.copy_target from stdin") as copy:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        rows = conn.execute("select count(*) from bench.copy_target").fetchone()[0]
        conn.execute("drop schema bench cascade")
    size = path.stat().st_size
    path.unlink()
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds,
            "file_megabytes": round(size / 1e6, 1)}  # fmt: skip


def one_run(
    url: str, base: str, key: str, secret: str, parties: dict, profile: bool, workdir: Path
) -> dict:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:  # a clean slate for the raw table
        conn.execute("drop table if exists raw_campus_card.transactions")
        conn.execute("delete from landing.cursors where subsystem = 'campus_card'")
        conn.execute("checkpoint")
    run: dict = {}
    for name, step in (
        ("api", lambda: measure_api(base, key, secret)),
        ("collect", lambda: measure_collect(url, base, key, secret, profile)),
        ("copy", lambda: measure_copy(url, workdir)),
    ):
        usage: dict = {}
        with cpu_seconds(parties, usage):
            run[name] = step()
        run[name].update(usage)
        rows = run[name]["rows"]
        run[name]["cpu_microseconds_per_row"] = {
            k: round(v / rows * 1e6, 2) for k, v in usage["cpu_seconds"].items()
        }
    limit = min(run["api"]["rows_per_second"], run["copy"]["rows_per_second"])
    run["smaller_limit"] = (
        "api" if run["api"]["rows_per_second"] <= run["copy"]["rows_per_second"] else "copy"
    )
    run["collect_vs_smaller_limit"] = round(run["collect"]["rows_per_second"] / limit, 3)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10000)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--start", default="2026-09-01")
    parser.add_argument("--profile", action="store_true", help="profile the collect step")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the median is reported")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="xb_bench_"))
    embedded = not os.environ.get("XIAOBEN_DATABASE_URL")
    if embedded:
        os.environ["XIAOBEN_HOME"] = str(workdir)
        os.environ["XIAOBEN_PG_PORT"] = str(free_port())
    from include.warehouse import connection
    from include.warehouse.bootstrap import bootstrap

    url = bootstrap()["warehouse"]
    port = free_port()
    t0 = time.perf_counter()
    sandbox = start_sandbox(args, port)
    startup = time.perf_counter() - t0
    parties = {"collector": os.getpid(), "sandbox": sandbox.pid}
    if embedded:
        pidfile = connection.embedded().datadir / "postmaster.pid"
        parties["postgres"] = int(pidfile.read_text().split()[0])
    key = os.environ.get("SANDBOX_CAMPUS_CARD_KEY", "campus_card-demo-key")
    secret = os.environ.get("SANDBOX_CAMPUS_CARD_SECRET", "campus_card-demo-secret")
    base = f"http://127.0.0.1:{port}/campus_card"
    runs = []
    try:
        for _ in range(args.repeat):
            runs.append(one_run(url, base, key, secret, parties, args.profile, workdir))
    finally:
        sandbox.terminate()
        sandbox.wait(30)
        if embedded:
            connection.embedded().stop()
        shutil.rmtree(workdir, ignore_errors=True)  # the embedded database: gigabytes
    median = sorted(runs, key=lambda r: r["collect_vs_smaller_limit"])[len(runs) // 2]
    best = {
        k: round(max(r[k]["rows_per_second"] for r in runs)) for k in ("api", "collect", "copy")
    }
    profile = median["collect"].pop("profile", None)
    for r in runs:
        r["collect"].pop("profile", None)
    summary = {
        "command": "python benchmarks/collect_campus_card.py " + " ".join(argv or sys.argv[1:]),
        "scale": args.scale, "days": args.days, "cpus": os.cpu_count(),
        "sandbox_startup_seconds": round(startup, 1),
        "median_run": median,
        "all_runs_collect_vs_smaller_limit": [r["collect_vs_smaller_limit"] for r in runs],
        "median_of_ratios": statistics.median(r["collect_vs_smaller_limit"] for r in runs),
        # Other work on the machine only ever slows a step down, so each step's best run is
        # the closest to what it can do; the ratio of bests is reported next to the median.
        "best_rows_per_second": best,
        "best_collect_vs_best_smaller_limit": round(
            best["collect"] / min(best["api"], best["copy"]), 3
        ),
    }  # fmt: skip
    print(json.dumps(summary, indent=2, default=str))
    if profile:
        print(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
