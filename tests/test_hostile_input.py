"""Hostile input reaches people safely (issue 15, item 3).

The campus sandbox with its `hostile_strings` fault on for every record (SQL, `<script>`,
a right-to-left override, zero-width characters, emoji, rare CJK, a 10,000-character text)
is collected over HTTP by the real connector into a database of its own, and dbt builds the
student and course marts there. Then the values go where people see them, through the
platform's own code: an indicator warning naming the courses and its digest mail over real
SMTP, an Annex 1 correction form (HTML and PDF) for students whose name is hostile, and a
report section (HTML and PDF) listing the courses. Stored exactly as received; shown
escaped, with invisible characters marked and long values cut (`include/display.py`).
"""

from __future__ import annotations

import re
import subprocess
import threading
import unicodedata
from datetime import date, datetime
from email import policy
from email.parser import BytesParser

import psycopg
import pytest

from include import display, mail
from include.warehouse import connection

pytestmark = pytest.mark.slow

SCRIPT = "<script>alert('xss')</script>"
BIDI = "\u202e注意：文本方向被反转\u202c"
ZERO_WIDTH = "张\u200b三\u200d（含零宽字符）"
LONG = "很长的文本" * 2000
# The resources dim_students and dim_courses are built from (dbt ls --select +dim_…).
RESOURCES = [
    ("academic", "students"),
    ("academic", "courses"),
    ("admissions", "enrolments"),
    ("campus_card", "accounts"),
    ("online_teaching", "courses"),
]
DAY = date(2026, 9, 22)


@pytest.fixture(scope="module")
def college(warehouse_url):
    """(sandbox, url): every record's free text hostile, collected and built into marts."""
    from connectors.client import Credentials
    from connectors.collect import collect
    from include.warehouse import dbt
    from sandbox import Sandbox
    from sandbox.server import make_server
    from tests.quality.conftest import fresh_database

    sb = Sandbox(seed=2026, scale=200, start="2026-09-01", days=7)
    sb.set_faults({"hostile_strings": 1.0})
    server = make_server(sb, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = fresh_database(warehouse_url, "hostile_test")
        base = f"http://127.0.0.1:{server.server_address[1]}"
        for sid, resource in RESOURCES:
            creds = Credentials(f"{base}/{sid}", *sb.credentials(sid))
            run = collect(sid, resource, mode="full", credentials=creds, db_url=url)
            assert run["status"] == "success", run
        dbt.run(
            ["build", "--select", "+dim_students", "+dim_courses", "--exclude-resource-type",
             "test", "unit_test"],
            url=url,
        )  # fmt: skip
        yield sb, url
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def catcher(tmp_path, monkeypatch):
    with mail.MailCatcher(tmp_path / "mail") as c:
        for key, value in c.connection_env().items():
            monkeypatch.setenv(key, value)
        yield c


def _query(url, text, params=None):
    with psycopg.connect(url) as conn:
        return conn.execute(text, params).fetchall()


def _by_value(sb, resource: str, field: str) -> dict[str, str]:
    """hostile value → the key of one record the sandbox serves with it."""
    from sandbox.faults import HOSTILE

    key = {"students": "xh", "courses": "kch"}[resource]
    out = {}
    for record in sb.truth("academic", resource).values():
        if record.get(field) in HOSTILE:
            out.setdefault(record[field], record[key])
    return out


def _pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _hidden(text: str) -> list[str]:
    """Characters that would change or hide what is around them (newline and tab aside)."""
    return [ch for ch in text if ch not in "\n\t" and unicodedata.category(ch) in display.HIDDEN]


def _squeezed(text: str) -> str:
    return "".join(text.split())


def test_stored_byte_for_byte_in_raw_and_marts(college):
    sb, url = college
    served = {r["xh"]: r["xm"] for r in sb.truth("academic", "students").values()}
    raw = dict(_query(url, "select source_key, payload ->> 'xm' from raw_academic.students"))
    marts = dict(_query(url, "select student_id, name from marts.dim_students"))
    assert raw == served  # the SQL in names ran nowhere: every record landed, none lost
    assert {k: marts[k] for k in served} == served
    for value in (SCRIPT, BIDI, ZERO_WIDTH, LONG, "'; DROP TABLE students; --"):
        assert value in marts.values()
    assert max(len(v) for v in marts.values()) == 10_000
    courses = {r["kch"]: r["kcmc"] for r in sb.truth("academic", "courses").values()}
    names = dict(_query(url, "select course_code, course_name from marts.dim_courses"))
    assert {k: names[k] for k in courses if k in names} == {k: courses[k] for k in names}


def test_display_helper_marks_cuts_and_keeps_one_line():
    assert display.shown(BIDI) == "〈U+202E〉注意：文本方向被反转〈U+202C〉"
    assert display.shown(ZERO_WIDTH) == "张〈U+200B〉三〈U+200D〉（含零宽字符）"
    assert display.shown("第一行\n第二行\t制表符\r\n") == "第一行\n第二行\t制表符〈U+000D〉\n"
    cut = display.shown(LONG)
    assert cut.startswith(LONG[: display.LIMIT] + "…") and "全文共 10,000 字" in cut
    assert len(cut) < display.LIMIT + 60
    assert (
        display.header("a\r\nBcc: x@evil.example\u202e")
        == "a〈U+000D〉 Bcc: x@evil.example〈U+202E〉"
    )
    assert display.shown("设计作品🎨 生僻字𠀀") == "设计作品🎨 生僻字𠀀"  # shown as is in HTML/mail


def test_mail_headers_stay_one_line(catcher):
    """A subject and a display name with CR/LF cannot add a header or a recipient."""
    msg = mail.build_message(
        [(f"张三\r\nBcc: attacker@evil.example{BIDI}", "zhang.san@hngy.example.cn")],
        f"预警\r\nBcc: attacker@evil.example\n{SCRIPT}",
        "正文",
        headers={"X-Xiaoben-Report": "1\r\nBcc: attacker@evil.example"},
    )
    mail.send(msg)
    raw = next(catcher.directory.glob("*.eml")).read_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if not line[:1].isspace()]
    assert "Bcc" not in names and names.count("Subject") == 1
    assert head.splitlines()[0] == "X-Envelope-To: zhang.san@hngy.example.cn"
    got = BytesParser(policy=policy.default).parsebytes(raw)
    for name in ("Subject", "To", "X-Xiaoben-Report"):
        assert "\n" not in str(got[name]) and not _hidden(str(got[name])), got[name]
    assert "〈U+202E〉" in str(got["To"])


def test_digest_mail_escapes_marks_and_cuts(college, catcher):
    """Courses named by the source system reach an indicator warning and its digest."""
    from include.quality import digest, warnings
    from tests.quality.test_warnings_mail import INDICATORS

    sb, url = college
    hostile = _by_value(sb, "courses", "kcmc")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(INDICATORS)
        for n, code in enumerate(hostile.values()):
            # unit_name as marts.fct_control_point_values writes it (课程 <code>《<name>》)
            conn.execute(
                "insert into marts.fct_control_point_values select 'CRS02', '到课率', 'term',"
                " '2026-2027-1', 'course', course_code,"
                " '课程 ' || course_code || '《' || coalesce(course_name, '') || '》',"
                " '设计创新学院', %s, '%%', 'higher_is_better', 98, 90, 95, '未达标', '教务处'"
                " from marts.dim_courses where course_code = %s",
                [50 + n, code],
            )
    opened = warnings.sync_indicator_warnings(url)["opened"]
    stored = _query(url, "select sample_keys from quality.warnings where warning_id = %s", opened)
    units = "".join(stored[0][0])
    assert SCRIPT in units and BIDI in units and LONG in units  # stored whole, as received
    assert digest.send_digests(DAY, url)
    messages = catcher.messages()
    assert messages
    for msg in messages:
        html = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()
        assert (
            "<script>" not in html and "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
        )
        for body in (html, text):
            assert not _hidden(body.replace("\r", ""))
            assert "〈U+202E〉注意：文本方向被反转〈U+202C〉" in body
            assert LONG not in body  # the unit names it: 课程 <code>《…》, 10,022 characters
            assert re.search(
                "…〔全文共 10,0[0-9]{2} 字，此处只显示前 500 字；完整内容见数据库〕", body
            )
        assert SCRIPT in text  # plain text is not HTML: shown as typed, nothing to run
        for name, value in msg.items():
            assert "\n" not in value and not _hidden(value), (name, value)


def _correction(college) -> dict:
    """An Annex 1 request correcting three hostile student names, filed with a hostile reason."""
    from include.corrections import requests as creq

    sb, url = college
    names = _by_value(sb, "students", "xm")
    items = tuple(
        creq.Item("students", names[v], "xm", new, old_value=v)
        for v, new in ((SCRIPT, "张三"), (BIDI, "李四"), (LONG, "王五"))
    )
    req = creq.Request(
        reporting_department="教务处",
        subsystem="academic",
        items=items,
        reason=f"源系统姓名被篡改：{SCRIPT}{BIDI}",
        filler_name="黄晓燕",
    )
    done = creq.submit(req, url=url)
    with connection.connect(url) as conn:
        return creq.load(conn, done["request_id"])


def test_correction_form_html_and_pdf(college, tmp_path):
    from include.corrections import form

    request = _correction(college)
    old = [i["old_value"] for i in request["items"]]
    assert old == [SCRIPT, BIDI, LONG]  # recorded as landed
    html = form.html(request)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "\u202e" not in html and "〈U+202E〉注意：文本方向被反转〈U+202C〉" in html
    assert LONG not in html and "全文共 10,000 字" in html
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(form.pdf(request))
    text = _pdf_text(pdf)
    assert "\u202e" not in text and "\u202c" not in text
    assert "〈U+202E〉注意：文本方向被反转〈U+202C〉" in _squeezed(text)
    assert "全文共10,000字，此处只显示前500字" in _squeezed(text)
    assert _squeezed(text).count("很长的文本") < 200
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "Pages:           1" in pages  # the long value did not push the form over pages
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "form")], check=True)  # fmt: skip


def test_report_section_html_and_pdf(college, tmp_path):
    from include.reports import render
    from include.reports.builder import Report, Section, Table
    from include.reports.periods import TZ, Period

    sb, url = college
    hostile = _by_value(sb, "courses", "kcmc")
    rows = _query(
        url,
        "select course_code, course_name from marts.dim_courses where course_code = any(%s)"
        " order by course_code",
        [list(hostile.values())],
    )
    period = Period("term", "2026-2027-1", date(2026, 9, 1), date(2027, 2, 1),
                    "2026-2027学年第一学期", "2026-2027", "2026-2027-1", None)  # fmt: skip
    section = Section(
        "courses",
        "课程名称（教务系统原样）",
        [f"源系统发来的课程名称之一：{BIDI}。", Table(["课程代码", "课程名称"], rows)],
    )
    report = Report("department", period, "教务处", "教务处数据分析报告", datetime.now(TZ),
                    [section], {}, [], [], [])  # fmt: skip
    html = render.html(report)
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
    assert "\u202e" not in html and "〈U+202E〉注意：文本方向被反转〈U+202C〉" in html
    assert LONG not in html and "全文共 10,000 字" in html
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render.pdf(report))
    text = _squeezed(_pdf_text(pdf))
    assert "\u202e" not in text and "〈U+202E〉注意：文本方向被反转〈U+202C〉" in text
    assert "全文共10,000字" in text and text.count("很长的文本") < 200
    assert "〈U+1F3A8〉" in text  # an emoji the embedded font cannot draw is named, not blank
    assert "<script>alert('xss')</script>" in text  # in a PDF it is only text
