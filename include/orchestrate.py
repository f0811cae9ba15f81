"""Run every DAG of the platform once, end to end, in dependency order (the main job's core).

Runs inside a process whose environment came from `include.airflow_env`, so DAGs execute
against the platform's metadata database with `DAG.test()`: real Airflow task execution,
without needing a scheduler. DAGs scheduled on Assets run after the DAGs that produce them,
which is the order the scheduler would follow.

    python -m include.orchestrate [--only DAG_ID ...] [--logical-date ISO] [--summary FILE]
                                  [--log FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from include import settings


def _asset_names(condition) -> set[str]:
    """Names of the assets in a schedule condition (AssetAny/AssetAll nest arbitrarily)."""
    if condition is None:
        return set()
    if hasattr(condition, "objects"):
        return set().union(*(_asset_names(o) for o in condition.objects))
    return {condition.name} if getattr(condition, "name", None) else set()


def _assets_consumed(dag) -> set[str]:
    return _asset_names(getattr(dag.timetable, "asset_condition", None))


def _assets_produced(dag) -> set[str]:
    return {o.name for t in dag.tasks for o in (t.outlets or []) if getattr(o, "name", None)}


def order(dags: list) -> list:
    """Producers before consumers; otherwise alphabetical, as the DAG list shows them."""
    remaining = sorted(dags, key=lambda d: d.dag_id)
    produced_by = {d.dag_id: _assets_produced(d) for d in remaining}
    done: list = []
    while remaining:
        ready = [
            d for d in remaining
            if not any(
                _assets_consumed(d) & produced_by[o.dag_id] for o in remaining if o is not d
            )
        ]  # fmt: skip
        if not ready:  # a cycle of assets: run the rest alphabetically rather than never
            ready = remaining
        done.extend(ready)
        remaining = [d for d in remaining if d not in ready]
    return done


def load_dags(dag_folder: str | None = None) -> list:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=dag_folder or str(settings.DAGS_DIR))  # examples: off by env
    if bag.import_errors:
        lines = [
            f"  {path}: {err.strip().splitlines()[-1]}" for path, err in bag.import_errors.items()
        ]
        raise SystemExit("DAG 文件导入失败 (DAG files failed to import):\n" + "\n".join(lines))
    return list(bag.dags.values())


def run_all(only: list[str] | None, logical_date: datetime, say=print) -> list[dict]:
    results = []
    for dag in order(load_dags()):
        if only and dag.dag_id not in only:
            continue
        say(f"    运行 {dag.dag_id} …")
        started = time.monotonic()
        run = dag.test(logical_date=logical_date)
        state = str(getattr(run, "state", "unknown"))
        results.append({
            "dag_id": dag.dag_id,
            "owner": dag.owner,
            "state": state,
            "seconds": round(time.monotonic() - started, 1),
        })  # fmt: skip
        say(f"    {dag.dag_id}: {state} ({results[-1]['seconds']} s)")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="DAG ids to run (default: all)")
    parser.add_argument("--logical-date", help="ISO date-time (default: now, Asia/Shanghai)")
    parser.add_argument("--summary", help="write the results as JSON to this file")
    parser.add_argument("--log", help="send task output to this file, keep progress on screen")
    args = parser.parse_args(argv)
    tz = ZoneInfo(settings.TIMEZONE)
    when = (
        datetime.fromisoformat(args.logical_date).replace(tzinfo=tz)
        if args.logical_date
        else datetime.now(tz)
    )
    say = print
    if args.log:
        # Task logs (Airflow, dbt, Soda) go to the log file; only progress stays on the terminal.
        terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
        log = open(args.log, "a", encoding="utf-8")  # open for the life of the process
        os.dup2(log.fileno(), sys.stdout.fileno())
        os.dup2(log.fileno(), sys.stderr.fileno())

        def say(text: str) -> None:
            print(text, file=terminal, flush=True)

    results = run_all(args.only, when, say)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            json.dump(results, f, ensure_ascii=False, indent=2)
    return 0 if all(r["state"] == "success" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
