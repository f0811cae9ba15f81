"""Where the platform keeps its state and which servers it talks to.

Everything is read from the environment so that the same code runs on a laptop (embedded
PostgreSQL under `.xiaoben/`), in CI, and in the docker-compose stack (a real server).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBSYSTEMS_DIR = ROOT / "connectors" / "subsystems"
DEPARTMENTS_FILE = ROOT / "connectors" / "departments.yml"
DAGS_DIR = ROOT / "dags"
DBT_DIR = ROOT / "dbt_project"
SODA_DIR = ROOT / "soda"

TIMEZONE = "Asia/Shanghai"


def state_dir() -> Path:
    """Git-ignored folder for the embedded database, Airflow home, logs and outputs."""
    return Path(os.environ.get("XIAOBEN_HOME", ROOT / ".xiaoben")).resolve()


def warehouse_db() -> str:
    return os.environ.get("XIAOBEN_WAREHOUSE_DB", "xiaoben")


def airflow_db() -> str:
    return os.environ.get("XIAOBEN_AIRFLOW_DB", "airflow")


def embedded_port() -> int:
    return int(os.environ.get("XIAOBEN_PG_PORT", "54329"))


def timetable(cron: str, timezone: str = "Asia/Shanghai"):
    """A DAG's time schedule, or None while the main job runs (XIAOBEN_SCHEDULES=off).

    `./run demo` triggers every DAG itself and waits for what follows; schedules firing meanwhile
    would start new collection → quality → warehouse chains and keep it from ever ending.
    `./run up` (daily use) always runs with the schedules on.
    """
    from airflow.sdk import CronTriggerTimetable

    if os.environ.get("XIAOBEN_SCHEDULES", "on") == "off":
        return None
    return CronTriggerTimetable(cron, timezone=timezone)


def timetable_or_assets(cron: str, assets, timezone: str = "Asia/Shanghai"):
    """Run on `assets` and also at `cron`; on `assets` only while the main job runs."""
    from airflow.sdk import AssetOrTimeSchedule

    time = timetable(cron, timezone)
    return assets if time is None else AssetOrTimeSchedule(timetable=time, assets=assets)
