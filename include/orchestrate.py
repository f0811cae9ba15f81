"""Run every DAG of the platform once through the running service (the main job's core).

The DAGs run on Airflow's scheduler, not in this process: `trigger_and_follow` starts every
DAG that is not scheduled on Assets through the REST API v2 (logical date = now, so the UI
shows true durations), then follows the Asset-driven DAGs (quality checks, warehouse build,
digest) the scheduler starts after them, until nothing is queued or running. Every few seconds
it says what is running and how many rows have landed, so a long run is never silent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

from include.airflow_api import AirflowApi

ACTIVE = ("queued", "running")
HEARTBEAT = 30  # seconds: the longest the job stays silent while it waits


def is_asset_driven(dag: dict) -> bool:
    return "asset" in (dag.get("timetable_summary") or "").lower()


def _tags(dag: dict) -> set[str]:
    return {t["name"] if isinstance(t, dict) else t for t in dag.get("tags") or []}


def reads_marts(dag: dict) -> bool:
    """Report DAGs read the built marts: the demo triggers them after the first wave."""
    return "reports" in _tags(dag)


def first_wave(dag: dict) -> bool:
    """The collections. DAGs a person answers (release, acknowledge, corrections, assessment
    forms) are started by the people the sandbox plays, with what they fill in, not empty."""
    return "collect" in _tags(dag)


def _landed_since(since: datetime) -> tuple[int, int]:
    """(pulls, rows landed) in landing.run_log since `since`."""
    from include.warehouse import connection

    try:
        with connection.connect() as conn:
            row = conn.execute(
                "select count(*), coalesce(sum(landed), 0) from landing.run_log"
                " where started_at >= %s",
                [since],
            ).fetchone()
        return int(row[0]), int(row[1])
    except Exception:  # the progress line is a courtesy; never fail the job over it
        return 0, 0


def _runs_since(api: AirflowApi, since: datetime) -> list[dict]:
    """Runs queued since `since` (a run created then was updated then too)."""
    runs = api.runs("~", limit=1000, updated_at_gte=since.isoformat())
    stamp = since.strftime("%Y-%m-%dT%H:%M:%S")
    return [r for r in runs if (r.get("queued_at") or "") >= stamp]


def _queued_asset_events(api: AirflowApi, dag_ids: list[str]) -> int:
    total = 0
    for dag_id in dag_ids:
        try:
            total += api.request("GET", f"dags/{dag_id}/assets/queuedEvents")["total_entries"]
        except Exception:  # 404 when the DAG has none queued
            pass
    return total


# dbt's progress lines: "12:00:01  12 of 47 OK created sql table model marts.dim_x ... [SELECT 9]"
DBT_NODE = re.compile(
    r"\b(\d+) of (\d+) (?:START|OK|PASS|WARN|ERROR|FAIL|SKIP)\S*\s+(.*?)\s*(?:\.{2,}|\[|$)", re.M
)


def dbt_progress(log: str) -> str:
    """The node a running `dbt build` is on, from its task log: "dbt 12/47 marts.dim_x"."""
    found = DBT_NODE.findall(log)
    if not found:
        return ""
    n, total, what = found[-1]
    return f"dbt {n}/{total} {what.split()[-1] if what.split() else ''}".rstrip()


def _task_label(api: AirflowApi, run: dict, ti: dict) -> str:
    label = f"{run['dag_id']}.{ti['task_id']}"
    if ti["task_id"] != "dbt_build":
        return label
    try:  # the warehouse build is one task: say which node dbt is on
        where = dbt_progress(
            api.log(run["dag_id"], run["dag_run_id"], ti["task_id"], ti.get("try_number") or 1)
        )
    except Exception:  # a courtesy: a log not yet readable must not stop the job
        where = ""
    return f"{label}（{where}）" if where else label


def progress_line(api: AirflowApi, since: datetime, runs: list[dict]) -> str:
    """What is running now, how many runs are done and how many rows have landed."""
    running = [r for r in runs if r["state"] in ACTIVE]
    done = [r for r in runs if r["state"] not in ACTIVE]
    tasks = []
    for r in running:
        if r["state"] != "running":
            continue
        for ti in api.task_instances(r["dag_id"], r["dag_run_id"], state=["running"]):
            tasks.append(_task_label(api, r, ti))
    pulls, rows = _landed_since(since)
    now = ", ".join(tasks[:4]) + (f" 等 {len(tasks)} 个" if len(tasks) > 4 else "")
    return (
        f"    [{datetime.now().strftime('%H:%M:%S')}] 已完成 {len(done)}/{len(runs)} 个运行；"
        f"入库 {rows} 行（{pulls} 次拉取）；正在运行: {now or '（等待调度）'}"
    )


def trigger_and_follow(
    api: AirflowApi,
    only: list[str] | None = None,
    say: Callable[[str], None] = print,
    every: float = 5,
    timeout: float = 4 * 3600,
    since: datetime | None = None,
    confs: dict[str, dict] | None = None,
) -> list[dict]:
    """Trigger the non-Asset DAGs (with `confs[dag_id]` where given), wait until every run
    they cause has finished; its runs."""
    since = since or datetime.now(UTC)
    dags = api.dags()
    followers = [d["dag_id"] for d in dags if is_asset_driven(d)]
    for d in dags:
        if is_asset_driven(d) or (only and d["dag_id"] not in only):
            continue
        if only is None and not first_wave(d):  # reports after the warehouse; people's DAGs
            continue
        conf = (confs or {}).get(d["dag_id"], {})
        run = api.trigger(d["dag_id"], conf=conf, logical_date=None)
        said = "".join(f" {k}={v}" for k, v in conf.items())
        say(f"    触发 {d['dag_id']}{said} ({run['dag_run_id']})")
    follow_until_idle(api, since, followers, say, every, timeout)
    return _runs_since(api, since)


def follow_until_idle(
    api: AirflowApi,
    since: datetime,
    followers: list[str],
    say: Callable[[str], None] = print,
    every: float = 5,
    timeout: float = 4 * 3600,
) -> None:
    """Until no run is queued or running and no Asset event waits (twice in a row)."""
    deadline = time.monotonic() + timeout
    idle, last, said_at = 0, "", 0.0
    while True:
        runs = _runs_since(api, since)
        line = progress_line(api, since, runs)
        # a line when something changed, and at least every HEARTBEAT seconds otherwise
        if line.split("] ", 1)[1] != last or time.monotonic() - said_at >= HEARTBEAT:
            say(line)
            last, said_at = line.split("] ", 1)[1], time.monotonic()
        # Collections the schedule starts meanwhile are not waited for (a busy timetable
        # would keep the job going forever), but the Asset-driven runs they cause are.
        ours = [r for r in runs if r["run_type"] != "scheduled" or r["dag_id"] in followers]
        busy = any(r["state"] in ACTIVE for r in ours) or _queued_asset_events(api, followers)
        idle = 0 if busy else idle + 1
        if idle >= 2:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"DAG 运行 {timeout / 60:.0f} 分钟内未全部结束")
        time.sleep(every)


def summarise(runs: list[dict]) -> list[dict]:
    """One row per run, oldest first: DAG, run, kind, state, true duration in seconds."""
    rows = []
    for r in sorted(runs, key=lambda r: r.get("start_date") or r["queued_at"]):
        rows.append({
            "dag_id": r["dag_id"],
            "dag_display_name": r.get("dag_display_name") or r["dag_id"],
            "run_id": r["dag_run_id"],
            "run_type": r["run_type"],
            "state": r["state"],
            "seconds": round(r.get("duration") or 0, 1),
        })  # fmt: skip
    return rows
