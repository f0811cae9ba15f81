"""Benchmark the campus sandbox: generating the default college, and serving card transactions.

    python benchmarks/sandbox_generate.py            # default college: scale 10000, 21 days
    python benchmarks/sandbox_generate.py --scale 2000 --days 7

1. Generation, in this process: ``Sandbox(...)`` (organisation, people, every subsystem's
   records and 21 days of clock events), then ``warm()`` (the lazily generated campus-card
   transactions and every resource's served view). Together that is what
   ``python -m sandbox serve`` does before it prints its ready line.
2. Serving: a separate ``python -m sandbox serve`` process (so the client does not share
   its interpreter), paged through with plain ``requests``: all campus-card transactions of the
   window, PageSize 1000, rows parsed and discarded. Nothing is loaded anywhere.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import Sandbox  # noqa: E402  (after the path tweak, for a bare checkout)


def generation(seed: int, scale: int, start: str, days: int) -> dict:
    began = time.perf_counter()
    sandbox = Sandbox(seed=seed, scale=scale, start=start, days=days)
    built = time.perf_counter()
    sandbox.warm()
    warmed = time.perf_counter()
    rows = sum(
        len(sandbox.rows(subsystem, spec.resource))
        for subsystem, domain in sandbox.domains.items()
        for spec in domain.specs
    )
    return {
        "build_s": built - began,
        "warm_s": warmed - built,
        "total_s": warmed - began,
        "records": rows,
        "transactions": len(sandbox.rows("campus_card", "transactions")),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def serving(seed: int, scale: int, start: str, days: int, page_size: int) -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "serve",
        "--port",
        str(port),
        "--seed",
        str(seed),
        "--scale",
        str(scale),
        "--start",
        start,
        "--days",
        str(days),
    ]
    began = time.perf_counter()
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        ready_line = server.stdout.readline().strip()
        ready_s = time.perf_counter() - began
        base = f"http://127.0.0.1:{port}"
        http = requests.Session()
        login = {"SysCode": "campus_card-demo-key", "SysPwd": "campus_card-demo-secret"}
        token = http.post(f"{base}/campus_card/api/TA_Login", json=login, timeout=30).json()[
            "Token"
        ]
        first = dt.datetime.fromisoformat(start)
        window = {
            "BeginTime": f"{first:%Y%m%d}000000",
            "EndTime": f"{first + dt.timedelta(days=days):%Y%m%d}000000",
        }
        rows = requests_made = 0
        page = 1
        began = time.perf_counter()
        while True:
            params = {"Token": token, "PageNo": page, "PageSize": page_size, **window}
            body = http.get(
                f"{base}/campus_card/api/TA_QueryTrans", params=params, timeout=60
            ).json()
            requests_made += 1
            rows += len(body["Rows"])
            if page * page_size >= body["RecNum"]:
                break
            page += 1
        elapsed = time.perf_counter() - began
        return {
            "ready_s": ready_s,
            "ready_line": ready_line,
            "rows": rows,
            "requests": requests_made,
            "seconds": elapsed,
            "rows_per_s": rows / elapsed,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--scale", type=int, default=10000)
    parser.add_argument("--start", default="2026-09-01")
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    print(
        f"sandbox benchmark: seed={args.seed} scale={args.scale} days={args.days} "
        f"cpus={os.cpu_count()} python={sys.version.split()[0]}"
    )
    gen = generation(args.seed, args.scale, args.start, args.days)
    print(
        f"generate: build {gen['build_s']:.1f} s + warm {gen['warm_s']:.1f} s = "
        f"{gen['total_s']:.1f} s; {gen['records']:,} records served "
        f"({gen['transactions']:,} card transactions); peak RSS {gen['peak_rss_mb']:.0f} MB"
    )
    srv = serving(args.seed, args.scale, args.start, args.days, args.page_size)
    print(
        f"serve: ready after {srv['ready_s']:.1f} s; {srv['rows']:,} transactions in "
        f"{srv['requests']} pages of {args.page_size} in {srv['seconds']:.1f} s = "
        f"{srv['rows_per_s']:,.0f} rows/s"
    )


if __name__ == "__main__":
    main()
