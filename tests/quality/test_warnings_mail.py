"""Warnings reach the right people: one digest per person per day through a real SMTP server.

Real PostgreSQL, real Soda, the sandbox landed through the collection code, and an aiosmtpd
server on a free port behind the Airflow connection `smtp_default`.
"""

from __future__ import annotations

from datetime import date, timedelta
from email.header import decode_header, make_header

import psycopg
import pytest

from include import mail
from include.quality import digest, report, verify, warnings

from .conftest import land

pytestmark = pytest.mark.slow
DAY = date(2026, 9, 22)
HUANG = "huang.xiaoyan@hngy.example.cn"  # 教务员 (collector) and 教务处 quality administrator
ZHOU = "zhou.lixin@hngy.example.cn"  # 教务处 head
ZHAO = "zhao.yaqin@hngy.example.cn"  # 组织人事处 quality administrator


def _to(msg) -> str:
    return str(msg["To"])


def _subject(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


@pytest.fixture(scope="module")
def audited(quality_url, sandbox):
    """Academic students with injected defects, landed and audited; warnings opened."""
    land(quality_url, "academic", "students", list(sandbox.truth("academic", "students").values()))
    run = verify.run("raw", "landing", url=quality_url, datasets=["raw_academic.students"])
    return run, warnings.sync_data_warnings(run["run_id"], quality_url)


def test_failed_checks_open_one_warning_each_for_the_responsible_people(quality_url, audited):
    run, synced = audited
    failed = [r for r in verify.results(quality_url, run["run_id"]) if r["outcome"] != "passed"]
    assert len(synced["opened"]) == len(failed) > 0
    with psycopg.connect(quality_url) as conn:
        rows = conn.execute(
            "select severity, recipients, advice, due_at - opened_at from quality.warnings"
        ).fetchall()
    for severity, recipients, advice, due in rows:
        assert severity in ("未通过", "提醒") and advice
        assert {p["email"] for p in recipients} == {HUANG}
        assert due == timedelta(days=warnings.escalate_after_days())
    # the same problems seen again update the warnings, they do not duplicate them
    again = verify.run("raw", "landing", url=quality_url, datasets=["raw_academic.students"])
    synced = warnings.sync_data_warnings(again["run_id"], quality_url)
    assert synced["opened"] == [] and synced["resolved"] == []


def test_each_person_gets_exactly_one_digest_per_day(quality_url, audited, catcher):
    sent = digest.send_digests(DAY, quality_url)
    messages = catcher.messages()
    assert [s["email"] for s in sent] == [HUANG]
    assert len(messages) == 1 and HUANG in _to(messages[0])
    msg = messages[0]
    assert "预警" in _subject(msg) and "黄晓燕" in _subject(msg)
    parts = {p.get_content_type(): p.get_content() for p in msg.walk() if not p.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    text = parts["text/plain"]
    with psycopg.connect(quality_url) as conn:
        titles = [t for (t,) in conn.execute("select title from quality.warnings")]
        mailed = conn.execute(
            "select count(*), min(message_id) from quality.warning_events where event = 'mailed'"
        ).fetchone()
    for title in titles:  # who, what, which records, what to do, deadline
        assert title in text
    assert "黄晓燕" in text and "怎么办" in text and "处理期限" in text and "涉及记录" in text
    assert mailed == (len(titles), msg["Message-ID"])
    # running again the same day sends nothing new
    assert digest.send_digests(DAY, quality_url) == []
    assert len(catcher.messages()) == 1


def test_lifecycle_acknowledge_resolve_escalate(quality_url, audited, catcher):
    with psycopg.connect(quality_url) as conn:
        ids = [i for (i,) in conn.execute("select warning_id from quality.warnings order by 1")]
    first, second = ids[0], ids[1]
    warnings.acknowledge(first, HUANG, "正在核对", quality_url)
    with pytest.raises(ValueError):
        warnings.acknowledge(first, HUANG, url=quality_url)
    warnings.resolve(second, HUANG, "已在教务系统更正并重新采集", quality_url)
    with pytest.raises(warnings.AlreadyResolved, match="已经解决"):  # an older mail's warning
        warnings.acknowledge(second, HUANG, url=quality_url)
    # the first has stayed unresolved for more than the allowed days: it goes to the head
    with psycopg.connect(quality_url, autocommit=True) as conn:
        conn.execute(
            "update quality.warnings set opened_at = opened_at - interval '5 days'"
            " where warning_id = %s",
            [first],
        )
    assert warnings.escalate(quality_url) == [first]
    assert warnings.escalate(quality_url) == []  # once
    sent = digest.send_digests(DAY + timedelta(days=1), quality_url)
    assert sorted(s["email"] for s in sent) == sorted([HUANG, ZHOU])
    head = next(s for s in sent if s["email"] == ZHOU)
    assert head["warnings"] == [first]
    mine = next(s for s in sent if s["email"] == HUANG)
    assert second not in mine["warnings"]  # resolved ones are not mailed
    with psycopg.connect(quality_url) as conn:
        events = [
            e
            for (e,) in conn.execute(
                "select event from quality.warning_events where warning_id = %s order by event_id",
                [first],
            )
        ]
    assert events[:3] == ["opened", "mailed", "acknowledged"]
    assert "escalated" in events and events.count("mailed") == 3


def test_day_report_says_what_was_wrong_and_who_was_told(quality_url, audited, catcher):
    digest.send_digests(DAY + timedelta(days=2), quality_url)
    with psycopg.connect(quality_url) as conn:
        day = conn.execute(
            "select (min(verified_at) at time zone 'Asia/Shanghai')::date"
            " from quality.check_results where subsystem = 'academic'"
        ).fetchone()[0]
    rows = report.what_was_wrong("academic", day, quality_url)
    assert rows, "the audited day has findings"
    bad_id = [r for r in rows if "身份证号" in r["check_name"]]
    assert bad_id and bad_id[0]["failing_count"] >= 1
    assert any(HUANG in told for r in bad_id for told in r["told"])
    text = report.format_report("academic", day, rows)
    assert "黄晓燕" in text and "已通知" in text
    assert report.what_was_wrong("finance", day, quality_url) == []


INDICATORS = """
create table if not exists marts.fct_control_point_values (
    control_point_code text, control_point_name text, period_type text, period_id text,
    unit_type text, unit_id text, unit_name text, org_unit_name text, value numeric,
    unit text, direction text, target_value numeric, standard_value numeric,
    warning_value numeric, status text, owner_department text
)
"""
CRS02 = ("CRS02", "到课率", "term", "2026-2027-1", "course")


def _indicator(conn, point, unit_id, unit_name, org, value, status, period="2026-2027-1"):
    code, name, period_type, _, unit_type = point
    conn.execute(
        "insert into marts.fct_control_point_values values"
        " (%s, %s, %s, %s, %s, %s, %s, %s, %s, '%%', 'higher_is_better', 98, 90, 95, %s, '教务处')",
        [code, name, period_type, period, unit_type, unit_id, unit_name, org, value, status],
    )


def test_indicator_warnings_roll_up_per_point_and_period_and_name_their_units(quality_url, catcher):
    with psycopg.connect(quality_url, autocommit=True) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute(INDICATORS)
        design = "设计创新学院"
        _indicator(
            conn, CRS02, "46010502", "课程 46010502《设计素描》", "设计创新学院", 78.67, "未达标"
        )
        _indicator(conn, CRS02, "46010511", "课程 46010511《工业设计数字化表现》", design,
                   93.5, "预警")  # fmt: skip
        _indicator(conn, CRS02, "55010301", "课程 55010301《色彩构成》", "数字媒体学院", 99, "达标")
        # not due yet (annual training hours in September): no status, never judged
        conn.execute(
            "insert into marts.fct_control_point_values values ('TCH01', '年度培训学时',"
            " 'academic_year', '2026-2027', 'staff', 'T0412', '教师 工号 T0412 张*',"
            " '数字媒体学院', 2, '学时', 'higher_is_better', 72, 48, 60, null, '组织人事处')"
        )
    synced = warnings.sync_indicator_warnings(quality_url)
    assert len(synced["opened"]) == 1  # one for CRS02 in that term, none for TCH01
    with psycopg.connect(quality_url) as conn:
        title, detail, units, count, recipients = conn.execute(
            "select title, detail, sample_keys, failing_count, recipients from quality.warnings"
            " where warning_id = %s",
            synced["opened"],
        ).fetchone()
    assert title == "质控点未达标：到课率（CRS02，2026-2027学年第一学期） 2 门课程未达到预警线"
    assert "合格线 ≥90%" in detail and "预警线 ≥95%" in detail and "设计创新学院 2" in detail
    assert units == [
        "课程 46010502《设计素描》：78.67%（未达标）",
        "课程 46010511《工业设计数字化表现》：93.5%（预警）",
    ]
    assert count == 2
    emails = {p["email"] for p in recipients}
    assert {HUANG} | {p["email"] for p in warnings._qmo_people()} == emails  # 教务处 and 质管办
    sent = digest.send_digests(DAY + timedelta(days=3), quality_url)
    mail = next(m for m in catcher.messages() if _to(m).endswith(f"<{HUANG}>") and
                "到课率" in m.get_body(("plain",)).get_content())  # fmt: skip
    text = mail.get_body(("plain",)).get_content()
    assert "课程 46010502《设计素描》：78.67%（未达标）" in text
    assert "http://127.0.0.1:8080/dags/quality_acknowledge" in text
    assert "./run" not in text and "quality.warnings" not in text
    assert any(s["email"] == HUANG for s in sent)
    with psycopg.connect(quality_url, autocommit=True) as conn:
        conn.execute("update marts.fct_control_point_values set status = '达标', value = 99")
    assert warnings.sync_indicator_warnings(quality_url)["resolved"] == synced["opened"]


def _warning(i: int, now, **fields) -> dict:
    return {
        "warning_id": i, "kind": "data", "warning_key": f"data|raw_x.y|check_{i}",
        "check_key": f"check_{i % 40}", "severity": "未通过", "title": f"检查 {i % 40} 未通过",
        "principle": "规范性", "advice": "请在源系统中更正", "status": "open",
        "detail": f"教务管理系统 raw_academic.students 的检查“检查 {i}”未通过。不合格 3 条",
        "due_at": now, "opened_at": now, "sample_keys": ["2026010101", "2026010102"],
        "failing_count": 3, "escalated_to_me": False, "pull_ids": [], **fields,
    }  # fmt: skip


def test_a_digest_of_the_main_jobs_size_stays_small_and_actionable():
    """3,702 students below the attendance line are one warning listing the worst 20; with
    a hundred data warnings and a held batch the mail stays far below 200 KB."""
    from datetime import date, datetime

    now = datetime(2026, 11, 29, 8, 30, tzinfo=digest.TZ)
    units = [f"学生 学号 2026{i:06d} 李*：{80 + i % 10}%（未达标）" for i in range(3702)]
    items = [_warning(i, now) for i in range(1, 101)]
    items.append(_warning(101, now, detail="采集批次：42，已暂扣，不进入数据集市", pull_ids=[42]))
    items.append(_warning(
        102, now, kind="indicator", warning_key="indicator|STU02|2026-2027-1", check_key=None,
        severity="未达标", title="质控点未达标：课堂出勤率（STU02，2026-2027学年第一学期）",
        principle=None, sample_keys=units, failing_count=len(units),
    ))  # fmt: skip
    person = {"name": "石磊", "role": "质量管理员", "email": "shi.lei@hngy.example.cn"}
    subject, text, html = digest.render(person, items, date(2026, 11, 29))
    message = mail.build_message([(person["name"], person["email"])], subject, text, html)
    assert len(message.as_bytes()) < 200 * 1024
    assert units[0] in text and units[19] in text and units[20] not in text
    assert "另有 3682 个未列出" in text and "质控点监测值" in text
    assert "http://127.0.0.1:8080/dags/quality_release" in text  # the held batch
    assert "暂扣的采集批次：42" in text
    for body in (text, html):
        assert "./run" not in body and "quality.warnings" not in body and "select " not in body
