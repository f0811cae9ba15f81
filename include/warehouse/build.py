"""The warehouse build: one `dbt build`, its results per model as Airflow Assets (issue 14).

Why one invocation. Each dbt invocation pays a fixed start-up (imports, partial parse,
connections: about 1.5 s here), and each Airflow task its own process start and DAG parse. One
task per model (Cosmos' LOCAL mode, 47 tasks) made the DAG cost 3.4× a single `dbt build`.
Cosmos' WATCHER mode runs one `dbt build` too, but still starts one Airflow task per model (two
with a deferral) beside it, rejects `TestBehavior.BUILD` (tests become a second sensor task
per model) and is marked experimental; on two cores those tasks compete with dbt itself.

So the build is one task that runs `dbt build` of the whole project, and the per-model view
comes from dbt's own `run_results.json`:

- **Per model, in the UI.** Every intermediate model, mart and snapshot is an Asset
  (`marts.dim_students`, uri `postgres://warehouse:5432/xiaoben/marts/dim_students`); a
  successful build records one event per Asset whose `extra` holds the node's status, seconds,
  rows and tests (Assets → 资产 page, and the run's "Asset events"). The task log and its
  XCom list every node with the same fields; a failure is one Chinese line naming the nodes.
- **Per model, on retry.** The task's Airflow retry runs `dbt retry`: dbt re-executes only
  the nodes that failed or were skipped for them, from the previous attempt's
  `run_results.json` (kept per DAG run under `.xiaoben/dbt/`), in dependency order.
- **One selection.** Seeds are reloaded in full by `dbt build` itself (`+full_refresh: true`
  in dbt_project.yml), so the task is exactly one `dbt build` of the same selection the
  benchmark times.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import time
from pathlib import Path

from include import settings

# What people look at per node: the staging layer (one view per raw resource) and the seeds are
# reported in the log and XCom but are not Assets.
ASSET_FOLDERS = ("models/intermediate/", "models/marts/", "snapshots/")


def _manifest() -> dict:
    from include.warehouse import dbt

    return json.loads(dbt.manifest_path().read_text(encoding="utf-8"))


def _is_asset_node(node: dict) -> bool:
    return node["resource_type"] in ("model", "snapshot") and node["original_file_path"].startswith(
        ASSET_FOLDERS
    )


def asset_nodes(manifest: dict | None = None) -> dict[str, tuple[str, str]]:
    """unique_id -> (schema, name) of every intermediate model, mart and snapshot."""
    nodes = (manifest or _manifest())["nodes"]
    return {uid: (n["schema"], n["name"]) for uid, n in sorted(nodes.items()) if _is_asset_node(n)}


def asset(schema: str, name: str):
    from airflow.sdk import Asset

    return Asset(
        name=f"{schema}.{name}",
        uri=f"postgres://warehouse:5432/{settings.warehouse_db()}/{schema}/{name}",
        group="warehouse",
    )


def assets(manifest: dict | None = None) -> list:
    return [asset(schema, name) for schema, name in asset_nodes(manifest).values()]


KEEP_RUNS = 10


def reuse_parse(target: Path) -> None:
    """Give a fresh target folder the project's partial-parse file (dbt keeps it in the target
    path): without it each run's own folder made dbt parse the whole project again, 30 s of a
    build under load (issue 14, item 3). `manifest_path()` keeps it current; dbt re-parses the
    files changed since, and parses everything when the file does not fit (another profile)."""
    from include.warehouse import dbt

    saved = dbt.DBT_DIR / "target" / "partial_parse.msgpack"
    if saved.exists() and not (target / saved.name).exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(saved, target / saved.name)


def target_dir(run_id: str) -> Path:
    """dbt's target path for one DAG run: its run_results.json is what `dbt retry` resumes.

    Only the latest KEEP_RUNS runs' folders are kept (each holds the compiled SQL, a few MB).
    """
    root = settings.state_dir() / "dbt"
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)
    if root.is_dir():
        old = sorted((d for d in root.iterdir() if d.is_dir()), key=lambda d: d.stat().st_mtime)
        for folder in [d for d in old if d.name != safe][:-KEEP_RUNS]:
            shutil.rmtree(folder, ignore_errors=True)
    return root / safe


def results(target: Path) -> dict[str, dict]:
    """unique_id -> {status, seconds, rows, message} from target/run_results.json."""
    path = target / "run_results.json"
    if not path.exists():
        return {}
    out = {}
    for r in json.loads(path.read_text(encoding="utf-8"))["results"]:
        rows = (r.get("adapter_response") or {}).get("rows_affected")
        out[r["unique_id"]] = {
            "status": r["status"],
            "seconds": round(r.get("execution_time") or 0, 2),
            "rows": rows,
            "message": r.get("message") or "",
            "failures": r.get("failures"),
        }
    return out


def _tests_of(manifest: dict) -> dict[str, list[str]]:
    tests: dict[str, list[str]] = {}
    for uid, n in manifest["nodes"].items():
        if n["resource_type"] == "test":
            for parent in n["depends_on"]["nodes"]:
                tests.setdefault(parent, []).append(uid)
    return tests


def per_model(merged: dict[str, dict], manifest: dict) -> dict[str, dict]:
    """The Asset nodes' results, each with its tests' outcome (passed / failed names)."""
    tests = _tests_of(manifest)
    out = {}
    for uid, (schema, name) in asset_nodes(manifest).items():
        r = dict(merged.get(uid) or {"status": "not run"})
        mine = [merged[t] | {"name": t.split(".")[2]} for t in tests.get(uid, []) if t in merged]
        r["tests_passed"] = sum(t["status"] == "pass" for t in mine)
        r["tests_failed"] = [t["name"] for t in mine if t["status"] in ("fail", "error")]
        out[f"{schema}.{name}"] = r
    return out


FAILED = ("error", "fail")
EXTRA = ("status", "seconds", "rows", "tests_passed", "tests_failed")  # per Asset event and XCom


def run(
    run_id: str, try_number: int, outlet_events=None, say=None, url: str | None = None,
    target: Path | None = None,
) -> dict:  # fmt: skip
    """`dbt build` (or `dbt retry` on an Airflow retry), then the per-model results."""
    from include.warehouse import dbt

    say = say or functools.partial(print, flush=True)  # the task log shows each node as it runs
    target = target or target_dir(run_id)
    target.mkdir(parents=True, exist_ok=True)
    reuse_parse(target)
    merged_file = target / "results_by_node.json"
    merged = json.loads(merged_file.read_text()) if try_number > 1 and merged_file.exists() else {}
    # A retry after failed nodes resumes from the previous attempt's results when this machine
    # has them; a task cleared after a success, an attempt that never got as far as writing
    # them, or another worker builds everything again.
    redo = any(r["status"] in (*FAILED, "skipped") for r in merged.values())
    resume = redo and (target / "run_results.json").exists()
    args = ["retry" if resume else "build", "--target-path", str(target)]
    say(f"dbt {' '.join(args)}")
    started = time.monotonic()
    res = dbt.stream(args, on_line=say, url=url)
    dbt_seconds = round(time.monotonic() - started, 1)
    merged.update(results(target))
    merged_file.write_text(json.dumps(merged, ensure_ascii=False))

    manifest = _manifest()
    models = per_model(merged, manifest)
    for key, r in models.items():
        tests = f"tests {r['tests_passed']} ok" + (
            f", FAILED {', '.join(r['tests_failed'])}" if r["tests_failed"] else ""
        )
        seconds, rows = r.get("seconds", 0), r.get("rows")
        say(f"{key:<48} {r['status']:<8} {seconds:>7.2f} s  rows {rows}  {tests}")
    if outlet_events is not None:
        for schema_name, r in models.items():
            schema, name = schema_name.split(".", 1)
            outlet_events[asset(schema, name)].extra = {k: r.get(k) for k in EXTRA}
    # by name (`test.xiaoben.<name>.<hash>`), latest status: a node a retry fixed is not listed
    bad = sorted(uid.split(".")[2] for uid, r in merged.items() if r["status"] in FAILED)
    if res.returncode != 0:
        from airflow.sdk.exceptions import AirflowException

        what = "、".join(bad[:10]) + ("等" if len(bad) > 10 else "") if bad else "dbt 未能开始"
        raise AirflowException(
            f"数据仓库构建失败：{what}（见上方 dbt 日志）；重试时 dbt retry 只重建失败节点及其下游 "
            f"— dbt build failed for {len(bad)} node(s); a retry re-runs those and what they feed"
        )
    counts: dict[str, int] = {}
    for r in merged.values():
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {
        "dbt_seconds": dbt_seconds,  # the dbt process alone: the rest of the run is Airflow's
        "nodes": counts,
        "models": {k: {f: r.get(f) for f in EXTRA} for k, r in models.items()},
    }
