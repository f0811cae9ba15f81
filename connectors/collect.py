"""One pull of one resource: what an Airflow task of `collect__<id>` runs.

    collect("campus_card", "transactions")                 # incremental from the cursor
    collect("campus_card", "transactions", mode="full")    # from the YAML's `initial`
    collect("academic", "grades", since="2026-09-01", until="2026-09-08")   # one window

A list-ids-then-get resource (`detail:`) pulled incrementally gets only the ids that are new or
whose landed version is not final (`detail.final`); its run-log row says how many ids were
listed and how many were skipped as final (listed = fetched + skipped_final).

A source restored from a backup (its clock back) is noticed by the incremental pull that sees
nothing at or after the stored high-water mark: the run log notes it and the resource is read
whole at once, the mark reset to the source's own. A pull killed or cut off from the warehouse
is closed by the next pull of its resource (`Landing.close_interrupted`); a warehouse that is
down or goes away is one Chinese `CollectError` naming it.

Fetching and loading overlap: a producer thread walks the API into a bounded queue while this
thread validates and COPYs, so the slower side sets the pace. Returns the run-log row.

Credentials come from the Airflow connection the YAML names: inside a task through Airflow
(`BaseHook.get_connection`), elsewhere from the same `AIRFLOW_CONN_<ID>` variable (JSON or
URI). Never from the repository.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg

from connectors.client import Client, Credentials, NotSubmitted
from connectors.extract import Extractor, as_datetime
from connectors.landing import Landing
from connectors.spec import ApiSpec, Resource, registry, spec_for
from include.rules.dates import TZ
from include.warehouse import connection as warehouse

FLUSH_ROWS = 20000
FLUSH_SECONDS = 5.0
QUEUE_PAGES = 16


class CollectError(RuntimeError):
    pass


class NotSubmittedError(CollectError):
    """The source answered that this period's data is not submitted yet: the pull is logged as
    `not_submitted` (a timeliness finding), not as a failure of the link."""

    def __init__(self, text: str, message: str, pull_id: int):
        super().__init__(text)
        self.message, self.pull_id = message, pull_id


# -- credentials --------------------------------------------------------------------------------


def credentials_from_env(conn_id: str) -> Credentials | None:
    value = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if not value:
        return None
    if value.lstrip().startswith("{"):
        c = json.loads(value)
        return credentials_from_parts(
            c.get("host"), c.get("login"), c.get("password"), c.get("schema"), c.get("port"),
            c.get("extra"),
        )  # fmt: skip
    parts = urlsplit(value)
    scheme = parts.scheme if parts.scheme in ("http", "https") else "http"
    host = f"{scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "") + parts.path
    return Credentials(host, unquote(parts.username or ""), unquote(parts.password or ""))


def credentials_from_parts(
    host, login, password, schema=None, port=None, extra=None
) -> Credentials:
    """Airflow's http connections put the scheme in `host` or in `schema`; accept both. The
    connection's extra (JSON) may name a private CA's certificate file: `{"ca_bundle": path}`."""
    if isinstance(extra, str):
        extra = json.loads(extra) if extra.strip() else {}
    ca_bundle = (extra or {}).get("ca_bundle") or None
    host = (host or "").strip()
    if "://" not in host:
        scheme = schema if schema in ("http", "https") else "http"
        split = host.split("/", 1)
        hostport = split[0] + (f":{port}" if port and ":" not in split[0] else "")
        host = f"{scheme}://{hostport}" + (f"/{split[1]}" if len(split) > 1 else "")
    return Credentials(host, login or "", password or "", ca_bundle)


def credentials_for(conn_id: str) -> Credentials:
    creds = credentials_from_env(conn_id)
    if creds is not None:
        return creds
    try:  # a connection kept in Airflow's metadata database or a secrets backend
        from airflow.sdk import BaseHook

        c = BaseHook.get_connection(conn_id)
    except Exception as exc:
        raise CollectError(
            f"连接 {conn_id} 未配置 (no Airflow connection '{conn_id}'): add it in the Airflow UI "
            f"or set AIRFLOW_CONN_{conn_id.upper()}"
        ) from exc
    return credentials_from_parts(c.host, c.login, c.password, c.schema, c.port, c.extra)


# -- windows ------------------------------------------------------------------------------------


def stored_cursor(conn: psycopg.Connection, subsystem: str, resource: str) -> datetime | None:
    row = conn.execute(
        "select cursor_value from landing.cursors where subsystem = %s and resource = %s",
        [subsystem, resource],
    ).fetchone()
    return row[0].astimezone(TZ) if row else None


def plan_window(
    conn: psycopg.Connection, spec: ApiSpec, res: Resource, mode: str, since: Any, until: Any
) -> tuple[str, tuple[datetime, datetime] | None]:
    """(mode, [since, until)) of this pull. Resources without a cursor are read whole."""
    if res.cursor is None:
        return "full", None
    c = res.cursor
    end = as_datetime(until) if until is not None else datetime.now(TZ) + c.until_margin
    if since is not None:
        return mode, (as_datetime(since), end)
    if mode == "incremental":
        mark = stored_cursor(conn, spec.subsystem, res.name)
        if mark is not None:  # `>=` the high-water mark: records sharing it come again, deduped
            return "incremental", (mark - c.lookback, end)
    return "full", (as_datetime(c.initial), end)


# -- the pull -----------------------------------------------------------------------------------

_DONE = object()


def collect(
    subsystem_id: str,
    resource: str,
    mode: str = "incremental",
    since: Any = None,
    until: Any = None,
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    credentials: Credentials | None = None,
    db_url: str | None = None,
    client_options: dict | None = None,
) -> dict:
    """Pull one resource into `raw_<id>.<resource>`; returns its `landing.run_log` row."""
    if mode not in ("full", "incremental"):
        raise CollectError(f"mode must be full or incremental, not {mode!r}")
    spec = spec_for(subsystem_id)
    if resource not in spec.resources or not spec.resources[resource].land:
        raise CollectError(f"{spec.source_file.name}: no landed resource '{resource}'")
    res = spec.resources[resource]
    client = Client(spec, credentials or credentials_for(spec.connection), **(client_options or {}))
    title = registry().subsystems[subsystem_id].name_zh
    url = db_url or warehouse.warehouse_url()
    pull = [None]  # the pull under way, for the message if the warehouse goes away
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            mark = None
            if mode == "incremental" and since is None and until is None and res.cursor:
                mark = stored_cursor(conn, spec.subsystem, res.name)
            result, landing = _pull(conn, client, spec, res, title, mode, since, until, dag_id,
                                    run_id, pull)  # fmt: skip
            if mark is not None and _went_back(landing, mark, result):
                # the source went back in time (restored from a backup): what it made since
                # has cursor values below our high-water mark, which an incremental window
                # would never ask for; read it whole and reset the mark to what it has now
                seen = result["cursor_after"] or "无"
                note = (
                    f"源系统游标回退：本次增量拉取未见到游标 ≥ 已存高水位 {mark.isoformat()} 的"
                    f"记录（本次所见最大 {seen}），源系统可能从备份恢复或时钟回拨；已自动改为"
                    "全量重读，高水位以重读结果为准"
                )
                _note(conn, result, note)
                result, landing = _pull(
                    conn, client, spec, res, title, "full", None, until, dag_id, run_id, pull,
                    reread=f"源系统游标回退后的全量重读（由拉取 {result['pull_id']} 发现）；源系统"
                    "已不再提供的记录（恢复前的数据）在原始层保留为历史版本",
                )  # fmt: skip
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        which = f"拉取 {pull[0]} " if pull[0] else "拉取"
        raise CollectError(
            f"数据仓库连接失败或中断：{title}（{subsystem_id}）.{resource} 的{which}未完成"
            f"（{warehouse.shown(url)}：{reason}）；请确认数据仓库已启动（./run db status，"
            "./run db start）后重跑，已提交的部分保留，下次拉取自动补齐并去重"
        ) from None
    result["client"] = client.stats.as_dict()
    return result


def _pull(conn, client, spec, res, title, mode, since, until, dag_id, run_id, pull, reread=None):
    """One pull on an open connection: (its run-log row, its Landing). `reread`: the note of a
    full re-read after the source went back (its high-water mark replaces the stored one)."""
    landing = Landing(conn, spec, res, title=title)
    landing.ensure_table()
    mode, window = plan_window(conn, spec, res, mode, since, until)
    pull[0] = landing.start(mode, window, dag_id, run_id)
    # incremental: a listed id whose landed version is final is not fetched again (the
    # periodic full re-read, schedule.full_cron, still reads it)
    skip = landing.final_keys() if mode == "incremental" else frozenset()
    extractor = Extractor(client, spec, landing.validator.key, skip)
    try:
        _pump(extractor.pages(res, window), landing)
    except NotSubmitted as exc:
        landing.flush()
        landing.finish("not_submitted", exc.message[:4000])
        raise NotSubmittedError(str(exc), exc.message, landing.pull_id) from None
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        try:  # what was fetched before the failure is still landed
            landing.flush()
        except Exception:
            landing.abort()
        landing.finish("failed", error[:4000])
        if isinstance(exc, Exception):
            raise CollectError(
                f"{spec.subsystem}.{res.name} pull {landing.pull_id} failed: {error}"
            ) from exc
        raise
    notes = [reread] if reread else []
    if extractor.unreachable:  # not silent: the parents' own pulls rejected those records
        which = "、".join(
            f"{parent} 有 {len(recs)} 条记录缺少 {field}"
            for (parent, field), recs in sorted(extractor.unreachable.items())
        )
        notes.append(
            f"父资源 {which}，无法按其获取其下的记录（这些父记录已在其自身的拉取中拒收）；"
            "源系统补全后，之后的拉取（早于回看窗口的由定期全量重读）补齐"
        )
    result = landing.finish("success", note="；".join(notes) or None, reset=reread is not None)
    result["relisted"] = extractor.passes
    return result, landing


def _went_back(landing: Landing, mark: datetime, result: dict) -> bool:
    """True when an incremental pull saw nothing at or after the stored high-water mark.

    The window starts at the mark (`>=`, minus the lookback), so a source that only moves
    forward serves the record that set it again, or that record's later version. Nothing
    there means the source has lost it: restored from a backup, its clock set back. Not
    decided for a pull that skipped listed ids as final (the mark's record may be among them).
    """
    if result["status"] != "success" or result["skipped_final"]:
        return False
    return landing.cursor_max is None or landing.cursor_max < mark


def _note(conn: psycopg.Connection, result: dict, note: str) -> None:
    conn.execute("update landing.run_log set note = %s where pull_id = %s",
                 [note, result["pull_id"]])  # fmt: skip
    result["note"] = note


def _pump(pages, landing: Landing) -> None:
    """Producer thread fetches pages; this thread validates and loads them."""
    q: queue.Queue = queue.Queue(maxsize=QUEUE_PAGES)
    stop = threading.Event()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        q.put(page, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:
            failure.append(exc)
        finally:
            q.put(_DONE)

    thread = threading.Thread(target=produce, name="collect-producer", daemon=True)
    thread.start()
    last_flush = time.monotonic()
    try:
        while True:
            try:
                page = q.get(timeout=FLUSH_SECONDS)
            except queue.Empty:
                page = None
            if page is _DONE:
                break
            if page is not None:
                landing.add(page.records, page.keys, page.fetched_at, page.strict, page.skipped)
            if landing.buffered >= FLUSH_ROWS or time.monotonic() - last_flush >= FLUSH_SECONDS:
                landing.flush()
                last_flush = time.monotonic()
        if failure:
            raise failure[0]
        landing.flush()
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.1)
