"""Warnings reach the right people: one digest per person per day through a real SMTP server.

Real PostgreSQL, real Soda, the sandbox landed through the collection code, and an aiosmtpd
server on a free port behind the Airflow connection `smtp_default`.
"""

from __future__ import annotations

from datetime import date, timedelta
from email.header import decode_header, make_header

import psycopg
import pytest

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


def test_indicator_warnings_go_to_the_owner_department(quality_url, catcher):
    with psycopg.connect(quality_url, autocommit=True) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute(
            """
            create table if not exists marts.fct_control_point_values as
            select 'SCH02'::text as control_point_code,
                   '双师型教师占比'::text as control_point_name,
                   'school'::text as unit_type, null::text as unit_id,
                   '2026-2027'::text as period_id,
                   52.0::numeric as value, '%'::text as unit, 70::numeric as target_value,
                   50::numeric as standard_value, 55::numeric as warning_value,
                   '预警'::text as status, '组织人事处'::text as owner_department
            """
        )
    synced = warnings.sync_indicator_warnings(quality_url)
    assert len(synced["opened"]) == 1
    sent = digest.send_digests(DAY + timedelta(days=3), quality_url)
    to_zhao = [s for s in sent if s["email"] == ZHAO]
    assert len(to_zhao) == 1 and to_zhao[0]["warnings"] == synced["opened"]
    with psycopg.connect(quality_url, autocommit=True) as conn:
        conn.execute("update marts.fct_control_point_values set status = '达标', value = 72")
    assert warnings.sync_indicator_warnings(quality_url)["resolved"] == synced["opened"]


def test_a_digest_groups_many_warnings_of_one_control_point():
    """Thousands of students below one line make one group with ten examples, not 3,000 items."""
    from datetime import date, datetime

    from include.quality import digest

    now = datetime(2026, 11, 29, 8, 30, tzinfo=digest.TZ)
    warnings = [
        {
            "warning_id": i, "kind": "indicator", "warning_key": f"indicator|STU02|student:{i}|t",
            "check_key": None, "severity": "未达标", "title": f"质控点未达标：{i} 不及格学分",
            "principle": None, "advice": "请分析原因", "detail": f"实际值 {i}", "status": "open",
            "due_at": now, "opened_at": now, "sample_keys": [], "failing_count": None,
            "escalated_to_me": False,
        }
        for i in range(1, 3001)
    ]  # fmt: skip
    person = {"name": "石磊", "role": "质量管理员", "email": "shi.lei@hngy.example.cn"}
    subject, text, html = digest.render(person, warnings, date(2026, 11, 29))
    assert "3000 项待处理" in subject
    assert "归为 1 类" in text and "共 3000 项" in text and "其余 2990 项" in text
    assert "预警编号 10（" in text and "预警编号 11（" not in text
    assert "warning_key like &#39;indicator|STU02|%&#39;" in html  # escaped in HTML
    assert len(text) < 5000
