"""Warehouse benchmark: `dbt build` against the `warehouse` DAG run by a real scheduler.

    python benchmarks/warehouse_build.py [--scale 10000] [--days 14] [--via http|truth] [--no-dag]

A throw-away embedded PostgreSQL under a temporary XIAOBEN_HOME; the campus sandbox at the
main job's default size; raw filled either by the real collection code over HTTP (`http`,
what the main job does) or by landing the sandbox's truth directly in the landing format
(`truth`: same raw rows and pull semantics, minus the API time, to time dbt alone). Then:

1. `dbt build` from empty (seeds, staging, intermediate, marts, snapshots and every test), with
   the service of step 2 already up and idle, so both measurements share its background;
2. the built schemas are dropped, and the DAG `warehouse` builds them from empty again, run by
   the platform's own service (`include/service.py`: api-server, scheduler, dag-processor and
   triggerer as separate processes, LocalExecutor), triggered through the REST API as the main
   job does; every other DAG is paused so nothing else runs;
3. the sandbox advances one day, the changed records are landed as new pulls, and
   `dbt build` runs again (views recreated, incremental facts merge only new rows);
4. the sandbox advances another day, it is landed, and the DAG builds it.

The DAG figures are the run's own start-to-end as the scheduler records it and, beside it, the
time from the REST trigger to the run's end as seen by polling (scheduling latency included).
Ratios DAG ÷ dbt: step 2 ÷ step 1 (identical work) and step 4 ÷ step 3 (one sandbox day each).
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
from urllib.parse import quote

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


class Figures(dict):
    """The output, each figure also on stderr as it is measured (a long run shows progress)."""

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        print(f"{key}: {value}", file=sys.stderr, flush=True)


BUILT_SCHEMAS = ("seeds", "staging", "intermediate", "marts", "snapshots")


def reset_built(url: str) -> None:
    """Drop what dbt builds, then re-apply the platform's DDL (it recreates `marts` and grants)."""
    import psycopg

    from include.warehouse.bootstrap import prepare_database

    with psycopg.connect(url, autocommit=True) as conn:
        for schema in BUILT_SCHEMAS:
            conn.execute(f"drop schema if exists {schema} cascade")
        prepare_database(conn)


class Service:
    """The platform's service (`./run up --no-sandbox`) on free ports, only `warehouse` unpaused."""

    def __init__(self):
        import argparse as _argparse

        from include import service

        os.environ.update({
            "XIAOBEN_AIRFLOW_PORT": str(_free_port()),
            "XIAOBEN_SMTP_PORT": str(_free_port()),
            "XIAOBEN_SCHEDULES": "off",
        })  # fmt: skip
        self.service = service
        service.up(_argparse.Namespace(no_sandbox=True), say=lambda line: None)
        self.api = service.api()
        for d in self.api.dags():
            if d["dag_id"] != "warehouse" and not d["is_paused"]:
                self.api.set_paused(d["dag_id"], True)
        # a run the scheduler started before the pause (e.g. a digest's missed cron) ends first
        while any(r["state"] in ("queued", "running") for r in self.api.runs()):
            time.sleep(2)

    def run_warehouse(self) -> dict:
        from datetime import datetime

        started = time.monotonic()
        run = self.api.trigger("warehouse", conf={}, logical_date=None)
        done = self.api.wait("warehouse", run["dag_run_id"], timeout=3600, poll=1)
        seen = time.monotonic() - started
        span = datetime.fromisoformat(done["end_date"]) - datetime.fromisoformat(done["start_date"])
        tis = self.api.task_instances("warehouse", run["dag_run_id"])
        xcom = self.api.request(
            "GET",
            f"dags/warehouse/dagRuns/{quote(run['dag_run_id'], safe='')}/taskInstances/dbt_build"
            "/xcomEntries/return_value",
            params={"deserialize": "true", "stringify": "false"},
        )["value"]
        dbt_seconds = (json.loads(xcom) if isinstance(xcom, str) else xcom)["dbt_seconds"]
        return {
            "state": done["state"],
            "run_seconds": round(span.total_seconds(), 1),
            "trigger_to_end_seconds": round(seen, 1),
            # what the run cost beyond the dbt process inside it: robust to the load changing
            # between the dbt-alone and the DAG measurement
            "dbt_process_seconds": dbt_seconds,
            "airflow_overhead_seconds": round(span.total_seconds() - dbt_seconds, 1),
            "tasks": {t["task_id"]: [t["state"], round(t["duration"] or 0, 1)] for t in tis},
        }

    def stop(self) -> None:
        """Stop what `up` started here; the embedded PostgreSQL stays for the row counts."""
        for name in (*reversed(self.service.AIRFLOW_COMPONENTS), "mail"):
            self.service.Process(name).stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=10000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--start", default="2026-09-01")
    parser.add_argument("--via", choices=["http", "truth"], default="http")
    parser.add_argument("--no-dag", action="store_true", help="time dbt alone (no Airflow)")
    args = parser.parse_args(argv)

    home = tempfile.mkdtemp(prefix="xb_bench_")
    os.environ.update({"XIAOBEN_HOME": home, "XIAOBEN_PG_PORT": str(_free_port())})
    for key in ("XIAOBEN_DATABASE_URL", "AIRFLOW_CONN_XIAOBEN_WAREHOUSE"):
        os.environ.pop(key, None)

    import psycopg

    from include.warehouse import connection, dbt
    from include.warehouse.bootstrap import bootstrap
    from sandbox import Sandbox

    out = Figures(scale=args.scale, days=args.days, via=args.via, cpus=os.cpu_count())
    out["load_average_at_start"] = os.getloadavg()
    url = bootstrap()["warehouse"]
    service = None
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

        # The service is up before dbt is timed alone, so both measurements share its background
        # (dag-processor re-parsing, scheduler loop): the ratio is then the DAG's own cost.
        service = None if args.no_dag else Service()
        started = time.monotonic()
        dbt.run(["build"], url=url)
        out["dbt_build_full_seconds"] = round(time.monotonic() - started, 1)

        if service is not None:
            reset_built(url)
            out["dag_full"] = service.run_warehouse()
            out["ratio_full_dag_over_dbt"] = round(
                out["dag_full"]["run_seconds"] / out["dbt_build_full_seconds"], 2
            )

        sandbox.advance(1)
        started = time.monotonic()
        out["landed_next_day"] = land("incremental")
        out["land_next_day_seconds"] = round(time.monotonic() - started, 1)

        started = time.monotonic()
        dbt.run(["build"], url=url)
        out["dbt_build_incremental_seconds"] = round(time.monotonic() - started, 1)

        if service is not None:
            sandbox.advance(1)
            out["landed_day_after"] = land("incremental")
            out["dag_incremental"] = service.run_warehouse()
            out["ratio_incremental_dag_over_dbt"] = round(
                out["dag_incremental"]["run_seconds"] / out["dbt_build_incremental_seconds"], 2
            )
            service.stop()
            service = None

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
        out["load_average_at_end"] = os.getloadavg()
    finally:
        if service is not None:
            service.stop()
        connection.embedded().stop()
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
