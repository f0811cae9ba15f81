"""DingTalk collection: what a run after the first costs, with and without `detail.final`.

    .venv/bin/python benchmarks/collect_dingtalk.py [--scale 10000] [--days 14] [--advance 0]

Starts the campus sandbox as its own process (`python -m sandbox serve`, default college) and an
embedded PostgreSQL under a temporary XIAOBEN_HOME (or uses XIAOBEN_DATABASE_URL), then pulls
every DingTalk resource as the hourly DAG run does (incremental, the YAML's 20 requests/s):

1. **first**: the first run into an empty warehouse (every approval is new: one get each);
2. **second, before**: the next run with the subsystem file's `detail.final` removed (a copy of
   `connectors/subsystems/` under XIAOBEN_SUBSYSTEMS_DIR): every listed id is got again, as the
   code did before issue 14;
3. **second, after**: the same next run with the shipped file: only new and unfinished
   instances are got. It runs on a copy of the warehouse taken after step 1 (`create database
   … template`), so both second runs start from the same landed state.

`--advance N` moves the sandbox clock N days before the second runs (0: the hourly case, nothing
new at the source). Prints a JSON summary with, per run and resource, seconds, requests, ids
listed / fetched / skipped as final, and rows landed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from collect_campus_card import free_port, start_sandbox  # noqa: E402

RESOURCES = ("approvals", "attendance", "departments", "users")


def without_final(workdir: Path) -> Path:
    """A copy of the subsystem files whose dingtalk.yml declares nothing final."""
    from include import settings

    folder = workdir / "subsystems_before"
    shutil.copytree(settings.SUBSYSTEMS_DIR, folder)
    path = folder / "dingtalk.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for res in data["api"]["resources"].values():
        (res.get("detail") or {}).pop("final", None)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def clone(url: str, name: str) -> str:
    """A copy of the warehouse as it is now (`create database … template …`), its URL."""
    import psycopg
    from psycopg import sql

    from include.warehouse import connection

    source = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(connection.with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = %s and pid <> pg_backend_pid()",
            [source],
        )
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("create database {} template {}").format(
                sql.Identifier(name), sql.Identifier(source)
            )
        )
    return connection.with_db(url, name)


def one_run(url: str, base: str, key: str, secret: str, subsystems: Path | None) -> dict:
    from connectors.client import Credentials
    from connectors.collect import collect

    if subsystems is None:
        os.environ.pop("XIAOBEN_SUBSYSTEMS_DIR", None)
    else:
        os.environ["XIAOBEN_SUBSYSTEMS_DIR"] = str(subsystems)
    creds = Credentials(base, key, secret)
    out: dict = {}
    started = time.perf_counter()
    for name in RESOURCES:
        t0 = time.perf_counter()
        r = collect("dingtalk", name, credentials=creds, db_url=url)
        out[name] = {
            "seconds": round(time.perf_counter() - t0, 1), "requests": r["client"]["requests"],
            "mode": r["mode"], "listed": r["listed"], "fetched": r["fetched"],
            "skipped_final": r["skipped_final"], "landed": r["landed"], "status": r["status"],
        }  # fmt: skip
    out["total"] = {
        "seconds": round(time.perf_counter() - started, 1),
        "requests": sum(out[n]["requests"] for n in RESOURCES),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--start", default="2026-09-01")
    parser.add_argument("--advance", type=int, default=0, help="clock days before the 2nd runs")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="xb_bench_dingtalk_"))
    embedded = not os.environ.get("XIAOBEN_DATABASE_URL")
    if embedded:
        os.environ["XIAOBEN_HOME"] = str(workdir)
        os.environ["XIAOBEN_PG_PORT"] = str(free_port())
    from include.warehouse import connection
    from include.warehouse.bootstrap import bootstrap

    url = bootstrap()["warehouse"]
    port = free_port()
    sandbox = start_sandbox(args, port)
    key = os.environ.get("SANDBOX_DINGTALK_KEY", "dingtalk-demo-key")
    secret = os.environ.get("SANDBOX_DINGTALK_SECRET", "dingtalk-demo-secret")
    base = f"http://127.0.0.1:{port}/dingtalk"
    runs: dict = {}
    try:
        before = without_final(workdir)
        runs["first"] = one_run(url, base, key, secret, None)
        if args.advance:
            import requests

            requests.post(f"http://127.0.0.1:{port}/_admin/clock/advance",
                          json={"days": args.advance}, timeout=600).raise_for_status()  # fmt: skip
        twin = clone(url, "xiaoben_dingtalk_after")  # both second runs start from one state
        runs["second_before"] = one_run(url, base, key, secret, before)
        runs["second_after"] = one_run(twin, base, key, secret, None)
    finally:
        sandbox.terminate()
        sandbox.wait(30)
        if embedded:
            connection.embedded().stop()
        shutil.rmtree(workdir, ignore_errors=True)
    b, a = runs["second_before"]["total"], runs["second_after"]["total"]
    summary = {
        "command": "python benchmarks/collect_dingtalk.py " + " ".join(argv or sys.argv[1:]),
        "scale": args.scale, "days": args.days, "advance_days": args.advance,
        "cpus": os.cpu_count(), "runs": runs,
        "second_run_seconds_after_vs_before": round(a["seconds"] / b["seconds"], 3),
        "second_run_requests_after_vs_before": round(a["requests"] / b["requests"], 3),
    }  # fmt: skip
    print(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
