"""The main job end to end, as a user runs it: `xiaoben demo` on a small realistic college.

It starts the service (embedded PostgreSQL, sandbox, mail catcher, Airflow's api-server,
scheduler, dag-processor, triggerer) on free ports under a temporary XIAOBEN_HOME, runs every
DAG through the real scheduler with the sandbox's people answering through the REST API, reads
the warehouse, stops the service, and must leave every run successful, every subsystem
collected, and the quality loop, corrections, reports and assessment done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from include import settings
from include.registry import registry

pytestmark = pytest.mark.slow


def test_demo_runs_every_dag_and_collects_every_subsystem(tmp_path, free_port):
    port = free_port()
    env = {
        **os.environ,
        "XIAOBEN_HOME": str(tmp_path),
        "XIAOBEN_PG_PORT": str(port),
        "XIAOBEN_SANDBOX_PORT": str(free_port()),
        "XIAOBEN_AIRFLOW_PORT": str(free_port()),
        "XIAOBEN_SMTP_PORT": str(free_port()),
    }
    for key in [k for k in env if k.startswith("AIRFLOW")] + ["XIAOBEN_DATABASE_URL"]:
        env.pop(key, None)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "include.cli", "demo", "--scale", "300", "--days", "3",
             ],
            cwd=settings.ROOT, env=env, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
        assert "[4/4] 汇总" in out.stdout and "输出位置" in out.stdout
        assert "入库" in out.stdout  # the progress lines while it waits
        runs = json.loads((tmp_path / "logs" / "dag_runs.json").read_text())
        assert not [r for r in runs if r["state"] == "failed"]
        dag_ids = {r["dag_id"] for r in runs if r["state"] == "success"}
        assert {f"collect__{sid}" for sid in registry().subsystems} <= dag_ids
        url = subprocess.run(
            [sys.executable, "-m", "include.cli", "db", "url"], cwd=settings.ROOT, env=env,
            capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        with psycopg.connect(url) as conn:
            collected = {
                row[0]
                for row in conn.execute(
                    "select distinct subsystem from landing.run_log where status = 'success'"
                )
            }
        assert collected == set(registry().subsystems)
        main_job_played_the_college(conn_url=url)
    finally:
        subprocess.run(
            [sys.executable, "-m", "include.cli", "down"], cwd=settings.ROOT, env=env,
            capture_output=True,
        )  # fmt: skip


def main_job_played_the_college(conn_url: str) -> None:
    """What the realistic college must leave behind: its defects caught and people told, the
    late system warned and caught up, the held batch released, corrections signed, reports
    mailed, the year-end assessment entered and computed."""
    with psycopg.connect(conn_url) as conn:

        def one(query: str):
            return conn.execute(query).fetchone()[0]

        reasons = one("select count(distinct reason_code) from landing.rejects")
        assert reasons >= 4, "rejects of every seeded defect class"
        assert one("select count(*) from landing.run_log where status = 'not_submitted'") > 0
        assert (
            one("select status from quality.warnings where warning_key = 'not_submitted|research'")
            == "resolved"
        )  # warned while late, resolved by the pull after it submitted
        assert one("select count(*) from quality.holds where released_by is not null") >= 1
        assert one("select count(*) from quality.warnings where status = 'acknowledged'") >= 1
        assert one("select count(*) from corrections.forms") >= 1
        assert one("select count(*) from reports.reports where sent_at is not null") >= 2
        assert one("select count(distinct kind) from reports.reports") == 2
        assert one(
            "select array_agg(distinct period_id order by period_id) from reports.reports"
        ) == ["2026-09", "2026-2027", "2026-2027-1"], "the sandbox's month, term and year"
        assert (
            one(
                "select count(*) from assessment.results r join assessment.runs using (run_id)"
                " where r.manual_entry_id is not null and runs.sent_at is not null"
            )
            > 0
        )
        # the late system's organising department is barred (一票否决) with the pull as evidence
        assert (
            one(
                "select count(*) from assessment.results r join assessment.facts f using (run_id)"
                " where r.barred and f.department = r.department and f.indicator = 'submitted_rate'"
                " and f.evidence::text like '%not_submitted%'"
            )
            > 0
        )
