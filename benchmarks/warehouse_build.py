"""Warehouse benchmark: full dbt build, then the incremental rebuild after one simulated day.

    python benchmarks/warehouse_build.py [--scale 10000] [--days 14] [--via http|truth]

A throw-away embedded PostgreSQL under a temporary XIAOBEN_HOME; the campus sandbox at the
main job's default size; raw filled either by the real collection code over HTTP (`http`,
what the main job does) or by landing the sandbox's truth directly in the landing format
(`truth`: same raw rows and pull semantics, minus the API time, to time dbt alone). Then:

1. `dbt build` from empty (seeds, staging, intermediate, marts, snapshots and every test);
2. the sandbox advances one day, the changed records are landed as new pulls, and
   `dbt build` runs again: views are recreated, incremental facts merge only new rows.

Prints one JSON object with the timings and row counts (BENCHMARKS.md records them).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def land_truth(sandbox, url: str, only_changed: bool) -> int:
    """Land every record the sandbox serves now as one pull per resource (landing format)."""
    import psycopg

    from connectors.landing import canonical, payload_hash
    from connectors.spec import api_specs

    landed = 0
    with psycopg.connect(url, autocommit=True) as conn:
        for sid, spec in sorted(api_specs().items()):
            for name in spec.landed:
                pull = conn.execute(
                    "insert into landing.run_log (subsystem, resource, mode, status)"
                    " values (%s, %s, %s, 'running') returning pull_id",
                    [sid, name, "incremental" if only_changed else "full"],
                ).fetchone()[0]
                conn.execute("select landing.ensure_raw_table(%s, %s)", [f"raw_{sid}", name])
                conn.execute(
                    "create temp table if not exists _batch (pull_id bigint,"
                    " fetched_at timestamptz, source_key text, payload_hash text, payload jsonb)"
                )
                conn.execute("truncate _batch")
                n = 0
                columns = "pull_id, fetched_at, source_key, payload_hash, payload"
                with conn.cursor().copy(f"copy _batch ({columns}) from stdin") as copy:
                    for key, record in sandbox.truth(sid, name).items():
                        text = canonical(record)
                        source_key = "|".join(key) if isinstance(key, tuple) else str(key)
                        copy.write_row((pull, "now", source_key, payload_hash(text), text))
                        n += 1
                new = conn.execute(
                    f"insert into raw_{sid}.{name} select * from _batch on conflict do nothing"
                ).rowcount
                conn.execute(
                    "update landing.run_log set fetched = %s, landed = %s, duplicates = %s,"
                    " status = 'success', finished_at = now() where pull_id = %s",
                    [n, new, n - new, pull],
                )
                landed += new
    return landed


def collect_http(sandbox, base_url: str, url: str, mode: str) -> int:
    from connectors.client import Credentials
    from connectors.collect import collect
    from connectors.spec import api_specs

    landed = 0
    for sid, spec in sorted(api_specs().items()):
        key, secret = sandbox.credentials(sid)
        creds = Credentials(f"{base_url}/{sid}", key, secret)
        for name in spec.landed:
            landed += collect(sid, name, mode=mode, credentials=creds, db_url=url)["landed"]
    return landed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--start", default="2026-09-01")
    parser.add_argument("--via", choices=["http", "truth"], default="http")
    args = parser.parse_args(argv)

    home = tempfile.mkdtemp(prefix="xb_bench_")
    os.environ.update({"XIAOBEN_HOME": home, "XIAOBEN_PG_PORT": str(_free_port())})
    for key in ("XIAOBEN_DATABASE_URL", "AIRFLOW_CONN_XIAOBEN_WAREHOUSE"):
        os.environ.pop(key, None)

    import psycopg

    from include.warehouse import connection, dbt
    from include.warehouse.bootstrap import bootstrap
    from sandbox import Sandbox

    out: dict = {"scale": args.scale, "days": args.days, "via": args.via, "cpus": os.cpu_count()}
    url = bootstrap()["warehouse"]
    try:
        started = time.monotonic()
        sandbox = Sandbox(seed=2026, scale=args.scale, start=args.start, days=args.days)
        out["sandbox_seconds"] = round(time.monotonic() - started, 1)
        server = None
        if args.via == "http":
            from sandbox.server import make_server

            server = make_server(sandbox, port=0)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            base = f"http://127.0.0.1:{server.server_address[1]}"

        def land(mode: str) -> int:
            if args.via == "http":
                return collect_http(sandbox, base, url, mode)
            return land_truth(sandbox, url, only_changed=mode == "incremental")

        started = time.monotonic()
        out["landed_full"] = land("full")
        out["land_full_seconds"] = round(time.monotonic() - started, 1)

        started = time.monotonic()
        dbt.run(["build"], url=url)
        out["dbt_build_full_seconds"] = round(time.monotonic() - started, 1)

        sandbox.advance(1)
        started = time.monotonic()
        out["landed_next_day"] = land("incremental")
        out["land_next_day_seconds"] = round(time.monotonic() - started, 1)

        started = time.monotonic()
        dbt.run(["build"], url=url)
        out["dbt_build_incremental_seconds"] = round(time.monotonic() - started, 1)

        with psycopg.connect(url) as conn:
            for table in (
                "raw_campus_card.transactions",
                "marts.fct_card_transactions",
                "marts.fct_grades",
                "marts.dim_students",
                "marts.fct_control_point_values",
            ):
                out[f"rows.{table}"] = conn.execute(f"select count(*) from {table}").fetchone()[0]
        if server is not None:
            server.shutdown()
    finally:
        connection.embedded().stop()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
