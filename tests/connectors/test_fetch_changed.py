"""Issue 14, item 1: a list-ids-then-get pull fetches what changed, and a full re-read catches
what a final record still changes.

DingTalk approvals against the campus sandbox over HTTP, landed in a real database: the
incremental pull lists every id of its window but gets only those that are new or whose landed
version is not final (`detail.final` in `connectors/subsystems/dingtalk.yml`), and its run-log
row reconciles (listed = fetched + skipped_final). A change the source makes to a final
instance (a comment on a finished approval) is not seen by incremental pulls, and is seen by
the scheduled full re-read (`schedule.full_cron`), whose run the collection DAG's timetable
starts and whose mode the task derives from the run's logical time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from connectors.collect import collect
from connectors.dag_support import doc_md, pull_mode, schedule
from connectors.spec import registry
from include.rules.dates import TZ
from tests.connectors.conftest import latest_payloads

FINAL = ("COMPLETED", "TERMINATED")


def is_final(record: dict) -> bool:
    """The file's declaration, read independently: COMPLETED/TERMINATED with a finish time."""
    return record.get("status") in FINAL and record.get("finish_time") not in (None, "")


def pull(campus, db, **kw) -> dict:
    return collect("dingtalk", "approvals", credentials=campus.credentials("dingtalk"),
                   db_url=db, **kw)  # fmt: skip


def created(record: dict) -> datetime:
    return datetime.strptime(record["create_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=TZ)


def run_log(db, pull_id: int) -> dict:
    with psycopg.connect(db) as conn:
        cur = conn.execute("select * from landing.run_log where pull_id = %s", [pull_id])
        return dict(zip([c.name for c in cur.description], cur.fetchone(), strict=True))


@pytest.fixture(scope="module")
def first(campus, db):
    campus.faults()  # no injected faults: every request counts once
    result = pull(campus, db)
    assert result["status"] == "success" and result["mode"] == "full"
    return result


def test_the_first_pull_gets_every_listed_id(first):
    assert first["listed"] == first["fetched"] > 50
    assert first["skipped_final"] == 0


def test_a_second_pull_gets_only_new_and_unfinished_instances(campus, db, first, check_landed):
    with psycopg.connect(db) as conn:
        before = latest_payloads(conn, "dingtalk", "approvals")
    final_before = {k for k, r in before.items() if is_final(r)}
    assert 0 < len(final_before) < len(before)  # some still RUNNING

    campus.sandbox.advance(1)  # a day: new instances, some running ones finish
    second = pull(campus, db)
    assert second["mode"] == "incremental" and second["status"] == "success"

    listed = {
        k
        for k, r in campus.sandbox.truth("dingtalk", "approvals").items()
        if created(r) >= second["window_start"]
    }  # fmt: skip  (the ids the sandbox lists for the pull's window)
    expected = listed - final_before  # new ids, ids landed unfinished, ids rejected before
    assert second["listed"] == len(listed)
    assert second["skipped_final"] == len(listed & final_before) > 0
    assert second["fetched"] == len(expected) > 0
    assert second["fetched"] < second["listed"]
    # every request is the template listing, the id listings or a get: far fewer gets than ids
    assert second["client"]["requests"] < first["client"]["requests"]
    row = run_log(db, second["pull_id"])
    assert row["listed"] == row["fetched"] + row["skipped_final"]
    assert (row["listed"], row["skipped_final"]) == (second["listed"], second["skipped_final"])
    with psycopg.connect(db) as conn:
        assert check_landed(conn, campus.sandbox, "dingtalk", "approvals") == []
        after = latest_payloads(conn, "dingtalk", "approvals")
    newly_final = {k for k in expected if k in after and is_final(after[k])} - final_before
    assert newly_final, "instances that finished during the day were fetched and landed"


def test_a_change_to_a_final_instance_is_caught_by_the_scheduled_full_reread(campus, db, first):
    sb = campus.sandbox
    with psycopg.connect(db) as conn:
        landed = latest_payloads(conn, "dingtalk", "approvals")
    newest = max(created(r) for r in landed.values())
    key = next(
        k
        for k, r in sorted(landed.items())
        if is_final(r) and created(r) > newest - timedelta(days=20)
    )  # fmt: skip  (final, and inside the incremental window: listed, then skipped)
    domain = sb.domains["dingtalk"]
    record = domain.get("approvals", key)
    remark = {
        "userid": record["originator_userid"],
        "date": record["finish_time"],
        "operation_type": "ADD_REMARK",
        "operation_result": "NONE",
        "remark": "已归档",
    }
    changed = {**record, "operation_records": [*record["operation_records"], remark]}
    with sb._lock:  # DingTalk allows comments on a finished instance: its one later change
        domain.put("approvals", key, domain.ids[key], changed)
        sb._invalidate()
    assert sb.truth("dingtalk", "approvals")[key] == changed

    hourly = pull(campus, db)
    assert hourly["mode"] == "incremental" and hourly["skipped_final"] > 0
    with psycopg.connect(db) as conn:
        assert latest_payloads(conn, "dingtalk", "approvals")[key] == landed[key]  # not seen

    # the DAG's timetable starts a run at the file's full_cron time (Sunday 02:15) …
    s = registry().subsystems["dingtalk"]
    assert s.full_cron == "15 2 * * 0"
    runs = scheduled_runs(s, datetime(2026, 9, 26, 23, 30, tzinfo=TZ), 5)
    sunday = datetime(2026, 9, 27, 2, 15, tzinfo=TZ)
    assert sunday in runs
    # … and that scheduled run pulls in mode full; the hour after it, and a manual run, do not
    assert pull_mode(s, {"mode": "incremental"}, dag_run(sunday, "scheduled")) == "full"
    assert pull_mode(s, {}, dag_run(sunday + timedelta(hours=1), "scheduled")) == "incremental"
    assert pull_mode(s, {}, dag_run(sunday, "manual")) == "incremental"
    weekly = pull(campus, db, mode=pull_mode(s, {}, dag_run(sunday, "scheduled")))
    assert weekly["mode"] == "full" and weekly["skipped_final"] == 0
    assert weekly["listed"] == weekly["fetched"] == len(sb.truth("dingtalk", "approvals"))
    with psycopg.connect(db) as conn:
        assert latest_payloads(conn, "dingtalk", "approvals")[key] == changed


def test_a_full_cron_between_the_collection_times_adds_its_own_runs():
    import dataclasses

    from airflow.sdk import CronTriggerTimetable, MultipleCronTriggerTimetable

    s = registry().subsystems["dingtalk"]  # Sunday 02:15 is one of the hourly runs: one cron
    assert type(schedule(s)) is CronTriggerTimetable
    assert "**全量重读**：`15 2 * * 0`" in doc_md(s, s.api)  # the DAG's page says when
    s = dataclasses.replace(s, full_cron="45 2 * * 0")
    assert type(schedule(s)) is MultipleCronTriggerTimetable
    runs = scheduled_runs(s, datetime(2026, 9, 27, 1, 0, tzinfo=TZ), 4)
    assert [r.strftime("%H:%M") for r in runs] == ["01:15", "02:15", "02:45", "03:15"]
    assert pull_mode(s, {}, dag_run(runs[2], "scheduled")) == "full"
    assert pull_mode(s, {}, dag_run(runs[1], "scheduled")) == "incremental"


# -- Airflow's own objects: the DAG's timetable and the dag_run a task is given -----------------


def scheduled_runs(s, after: datetime, n: int) -> list[datetime]:
    """The next `n` run times Airflow's timetable for `collect__<id>` gives after `after`."""
    import pendulum
    from airflow.timetables.base import DataInterval, TimeRestriction

    timetable = schedule(s)
    assert timetable is not None, "XIAOBEN_SCHEDULES=off in the environment"
    from airflow.serialization.encoders import coerce_to_core_timetable

    timetable = coerce_to_core_timetable(timetable)  # the DAG's definition → the scheduler's
    last, out = pendulum.instance(after), []
    restriction = TimeRestriction(earliest=None, latest=None, catchup=True)
    for _ in range(n):
        info = timetable.next_dagrun_info(
            last_automated_data_interval=DataInterval(last, last), restriction=restriction
        )
        last = info.run_after
        out.append(last.astimezone(TZ))
    return out


def dag_run(when: datetime, run_type: str):
    """A dag run as the task SDK hands it to a task (`context["dag_run"]`)."""
    from airflow.sdk.api.datamodels._generated import DagRun, DagRunType

    return DagRun(
        dag_id="collect__dingtalk", run_id=f"{run_type}__{when.isoformat()}", logical_date=when,
        data_interval_start=when, data_interval_end=when, run_after=when, start_date=when,
        end_date=None, clear_number=0, run_type=DagRunType(run_type), state="running", conf={},
        consumed_asset_events=[], partition_key=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["api"]["resources"]["approvals"]["detail"]["final"][0].update(exists=True),
         "api.resources.approvals.detail.final[0]: 需要恰好一个 in、equals 或 exists: true"),
        (lambda d: d["api"]["resources"]["approvals"]["detail"]["final"][1].update(pth="x"),
         "api.resources.approvals.detail.final[1].pth: 未知字段"),
        (lambda d: d["api"]["resources"]["approvals"]["detail"].update(final=[]),
         "api.resources.approvals.detail.final"),
        (lambda d: d["schedule"].update(full_cron="every sunday"),
         "schedule.full_cron: 'every sunday' 不是合法的 5 段 cron"),
    ],
)  # fmt: skip
def test_a_wrong_final_or_full_cron_is_refused_naming_the_field(tmp_path, change, message):
    import shutil

    import yaml

    from include import settings
    from include.registry import RegistryError, load_registry

    folder = tmp_path / "subsystems"
    shutil.copytree(settings.SUBSYSTEMS_DIR, folder)
    path = folder / "dingtalk.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        load_registry(folder, settings.DEPARTMENTS_FILE)
    assert f"dingtalk.yml: {message}" in str(err.value)
