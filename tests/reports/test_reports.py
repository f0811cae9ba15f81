"""Reports on the sandbox college's term: traced figures recomputed with independent SQL, an
untraced figure refused, PDF with embedded CJK font, mail over implicit SSL and STARTTLS with a
second run of the period sending nothing."""

from __future__ import annotations

import json

import psycopg
import pytest

from include.reports import builder, deliver, periods, render
from include.reports.figures import Figure, Tracer, UntracedFigure
from tests.corrections.test_requests import pdf_text
from tests.reports.conftest import TERM, server_context

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _one(conn, query, params=None):
    row = conn.execute(query, params).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def recompute(conn, key: str, params: dict):
    """Each figure again, from the marts and platform tables, with SQL written for the test."""
    parts = key.split(":")
    if parts[0] == "cp":
        code, pid, what = parts[1], parts[2], parts[3]
        base = (
            "from marts.fct_control_point_values where control_point_code = %s and period_id = %s"
        )
        if what == "value":
            return _one(conn, f"select avg(value) {base} and unit_type = 'school'", (code, pid))
        rows = conn.execute(f"select status {base} and value is not null", (code, pid)).fetchall()
        reached = sum(r[0] == "达标" for r in rows)
        return {
            "units": len(rows),
            "reached": reached,
            "missed": sum(r[0] == "未达标" for r in rows),
            "reach_rate": round(100 * reached / len(rows), 1) if rows else None,
        }[what]
    if parts[0] == "dq":
        sid, what = parts[1], parts[2]
        start, end = params.get("start"), params.get("end")
        window = "finished_at >= %s::timestamptz and finished_at < %s::timestamptz"
        if what == "pulls":
            return _one(
                conn,
                f"select count(*) from landing.run_log where subsystem = %s and "
                f"status = 'success' and {window}",
                (sid, start, end),
            )
        if what in ("failed_pulls", "not_submitted"):
            status = "failed" if what == "failed_pulls" else "not_submitted"
            return _one(
                conn,
                f"select count(*) from landing.run_log where subsystem = %s and "
                f"status = %s and {window}",
                (sid, status, start, end),
            )
        if what == "landed":
            return _one(
                conn,
                f"select coalesce(sum(landed), 0) from landing.run_log where "
                f"subsystem = %s and {window}",
                (sid, start, end),
            )
        if what == "rejected":
            return _one(
                conn,
                "select count(*) from landing.rejects where subsystem = %s and "
                "received_at >= %s::timestamptz and received_at < %s::timestamptz",
                (sid, start, end),
            )
        if what == "lag_hours":
            return _one(
                conn,
                "select extract(epoch from (least(%s::timestamptz, now()) - "
                "max(finished_at))) / 3600 from landing.run_log where subsystem = %s "
                "and status = 'success'",
                (end, sid),
            )
        if what == "pass_rate":
            rows = conn.execute(
                "select dataset, check_key, outcome, verified_at from quality.check_results "
                "where subsystem = %s and outcome in ('passed','failed','warned') and "
                "verified_at >= %s::timestamptz and verified_at < %s::timestamptz",
                (sid, start, end),
            ).fetchall()
            last = {}
            for d, k, o, _at in sorted(rows, key=lambda r: r[3]):
                last[(d, k)] = o
            return (
                round(100 * sum(o == "passed" for o in last.values()) / len(last), 1)
                if last
                else None
            )
        if what in ("open_warnings", "overdue_warnings"):
            extra = " and due_at < least(%s::timestamptz, now())" if what.startswith("over") else ""
            args = (sid, end, end) + ((end,) if extra else ())
            return _one(
                conn,
                "select count(*) from quality.warnings where subsystem = %s and "
                "opened_at < %s::timestamptz and coalesce(resolved_at, "
                f"'infinity') >= %s::timestamptz{extra}",
                args,
            )
    raise AssertionError(f"no independent recomputation for figure {key}")


def recompute_forms(conn, sid: str, what: str, start, end) -> list[str]:
    """The form numbers of subsystem `sid` by outcome in the period, from the correction
    workflow's own tables (corrections.requests and items, not the history mart)."""
    if what == "open":
        cond = "r.submitted_at < %s::timestamptz and (r.closed_at is null or r.closed_at >= %s)"
        args = (end, end)
    else:
        cond = "r.status = %s and r.closed_at >= %s::timestamptz and r.closed_at < %s::timestamptz"
        args = (what, start, end)
    rows = conn.execute(
        "select distinct r.form_no from corrections.requests r join corrections.items i "
        f"using (request_id) where i.subsystem = %s and {cond} order by 1",
        (sid, *args),
    ).fetchall()
    return [r[0] for r in rows]


def _corrections(url) -> dict[str, str]:
    """Four Annex 1 forms on the academic students, one per outcome: verified (in the overlay),
    refused, timed out, still open. Records named in no warning, so no warning moves."""
    from include.corrections import requests as creq
    from include.corrections import workflow
    from tests.corrections.test_requests import _req, _sign_all

    keys = [
        r[0]
        for r in psycopg.connect(url).execute(
            "select source_key from raw_academic.students s where payload ->> 'mzm' = '01' "
            "and not exists (select 1 from quality.warnings w where s.source_key = any("
            "w.sample_keys)) order by source_key limit 4"
        )
    ]
    made = {}
    for outcome, key in zip(("verified", "refused", "timed_out", "open"), keys, strict=True):
        req = creq.submit(_req(key), url=url)
        made[outcome] = req["form_no"]
        if outcome == "verified":
            _sign_all(url, req["request_id"])
        elif outcome == "refused":
            _sign_all(url, req["request_id"], refuse_at="vice_president")
        elif outcome == "timed_out":
            workflow.close(req["request_id"], "timed_out", "逾期未签署", url=url)
    return made


def _drop_corrections(url) -> None:
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("select set_config('xiaoben.corrections_workflow', 'on', true)")
        for table in ("overlay", "forms", "steps", "items", "requests", "form_numbers"):
            conn.execute(f"delete from corrections.{table}")


@pytest.fixture(scope="module")
def school(campus, tmp_path_factory):
    from include.warehouse import dbt

    out = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XIAOBEN_DATABASE_URL", campus.db_url)
        forms = _corrections(campus.db_url)
        dbt.run(["run", "-s", "correction_history"], url=campus.db_url)
        try:
            for dept in builder.department_list()[:2]:  # two departments report, the rest late
                deliver.produce(
                    "department", "term", TERM, dept, url=campus.db_url, send_mail=False,
                    folder=out,
                )  # fmt: skip
            academic = deliver.produce(
                "department", "term", TERM, "教务处", url=campus.db_url, send_mail=False,
                folder=out,
            )  # fmt: skip
            result = deliver.produce(
                "school", "term", TERM, url=campus.db_url, send_mail=False, folder=out
            )
            yield result | {"forms": forms, "academic": academic}
        finally:  # the shared college goes back as it was: no correction, an empty history
            _drop_corrections(campus.db_url)
            dbt.run(["run", "-s", "correction_history"], url=campus.db_url)


def _check_figures(conn, report_id: int, kinds: set[str] | None, only: str | None = None):
    """Every figure of the report (or those of kind `only`) recomputed with the test's own SQL,
    trace included."""
    rows = conn.execute(
        "select figure_key, value, params, as_of, pull_ids, responsible_departments, "
        "responsible_people, corrections, source_relation, subsystems "
        "from reports.figures where report_id = %s",
        (report_id,),
    ).fetchall()
    assert kinds is None or {r[0].split(":")[0] for r in rows} == kinds
    rows = [r for r in rows if only is None or r[0].startswith(f"{only}:")]
    applied = dict(
        conn.execute(
            "select subsystem, array_agg(distinct form_no order by form_no) "
            "from corrections.overlay group by subsystem"
        ).fetchall()
    )
    for key, value, params, as_of, pull_ids, depts, people, corrections, relation, subs in rows:
        assert as_of is not None and pull_ids and depts, key
        numbers = [c["form_no"] for c in corrections]
        if key.startswith("cr:"):
            assert people and set(depts) <= {p.split(" ", 1)[0] for p in people}, key
            _, sid, what = key.split(":")
            expected_forms = recompute_forms(conn, sid, what, params["start"], params["end"])
            assert numbers == expected_forms, key
            assert value == len(expected_forms), key
            continue
        if relation.startswith("marts."):  # the corrections laid over its subsystems' data
            assert numbers == sorted(f for s in subs for f in applied.get(s, [])), key
        else:  # landing and quality figures read what landed: no correction applies
            assert corrections == [], key
        expected = recompute(conn, key, params)
        got = None if value is None else float(value)
        if key.endswith("lag_hours"):
            assert got == pytest.approx(expected, abs=0.2), key
        elif expected is None:
            assert got is None, key
        else:
            assert got == pytest.approx(expected, abs=0.051), key


def test_school_report_figures_recompute(campus, school):
    with psycopg.connect(campus.db_url) as conn:
        count = conn.execute(
            "select count(*) from reports.figures where report_id = %s", (school["report_id"],)
        ).fetchone()[0]
        assert count == school["figures"] > 50
        _check_figures(conn, school["report_id"], {"cp", "dq", "cr"})
        school_row = conn.execute(
            "select kind, period_kind, period_id, department, figures, pdf_bytes, html_sha256, "
            "recipients from reports.reports where report_id = %s",
            (school["report_id"],),
        ).fetchone()
    assert school_row[:4] == ("school", "term", TERM, "质管办")
    assert len(school_row[6]) == 64
    assert {r["role"] for r in school_row[7]} >= {"质管办负责人"}
    assert any("副" in r["role"] for r in school_row[7])


def test_corrections_made_are_reported_with_their_forms(campus, school):
    """Department and school reports: forms by outcome with their numbers, each count a traced
    figure naming the forms, filler, signers, verifier and the responsible people."""
    forms = school["forms"]
    academic = school["academic"]
    with psycopg.connect(campus.db_url) as conn:
        _check_figures(conn, academic["report_id"], None, only="cr")
        figs = dict(
            conn.execute(
                "select figure_key, corrections from reports.figures where report_id = %s "
                "and figure_key like 'cr:academic:%%'",
                (academic["report_id"],),
            ).fetchall()
        )
    for outcome, form in forms.items():
        (counted,) = figs[f"cr:academic:{outcome}"]
        assert counted["form_no"] == form and counted["filler"] == "黄晓燕"
    verified = figs["cr:academic:verified"][0]
    assert verified["verified_by"] == "袁芳" and "欧阳建华" in verified["signed_by"]
    for report in (academic, school):
        html = open(report["html"], encoding="utf-8").read()
        assert "更正流程尚未上线" not in html
        assert all(form in html for form in forms.values()), report["title"]
        assert "期末审批中" in html
    with psycopg.connect(campus.db_url) as conn:
        (found,) = conn.execute(
            "select findings from reports.reports where report_id = %s", (academic["report_id"],)
        ).fetchone()
    timed_out = next(f for f in found if f["rule"] == "correction_timed_out")
    assert forms["timed_out"] in timed_out["text"] and timed_out["figures"] == [
        "cr:academic:timed_out"
    ]
    flat = "".join(pdf_text(school["pdf"]).split())
    assert "数据更正" in flat and all(form in flat for form in forms.values())


def test_school_report_content(school):
    html = open(school["html"], encoding="utf-8").read()
    assert "人才培养状态分析报告（2026-2027学年第一学期）" in html
    for title in (
        "关键指标一览",
        "学校层面",
        "专业层面",
        "课程层面",
        "教师层面",
        "学生层面",
        "数据质量",
        "部门报告提交情况",
        "数字溯源",
    ):
        assert title in html
    assert "缺报" in html  # departments without a report for the term are named
    assert "data:image/png;base64," in html


def test_pdf_embeds_cjk_font(school):
    data = open(school["pdf"], "rb").read()
    assert data.startswith(b"%PDF")
    assert b"/FontFile3" in data and b"NotoSansCJKSC" in data  # an embedded CJK font subset
    assert len(data) < 2_000_000


def test_untraced_figure_is_refused(campus):
    with psycopg.connect(campus.db_url) as conn:
        period = periods.resolve(conn, "term", TERM)
        tracer = Tracer(conn, until=period.end_at)
        ok = tracer.measure(
            "ok",
            "教务 成功采集",
            "landing.run_log",
            "select count(*) from landing.run_log where subsystem = %(s)s",
            {"s": "academic"},
            ["academic"],
        )
        # a subsystem never collected: no pulls, no responsible department -> refused
        refused = tracer.measure(
            "x", "无来源", "landing.run_log", "select 42", {}, ["not_collected"]
        )
        assert ok is not None and ok.traced
        assert refused is None and tracer.refused[0].key == "x"
        assert set(tracer.refused[0].missing_trace()) == {"采集批次", "责任部门", "数据截止时间"}
        report = builder.build(conn, "department", period, "教务处")
    # even a figure slipped into a table is not printed: rendering refuses it
    report.figures["sneaked"] = Figure("sneaked", "无溯源", 1.0, "", "", "", {}, [])
    report.sections[1].blocks.insert(0, builder.Table(["x"], [[builder.Ref("sneaked")]]))
    with pytest.raises(UntracedFigure):
        render.html(report)
    with pytest.raises(UntracedFigure):
        render.pdf(report)


def _serve(folder, port, cert, key, mode):
    from aiosmtpd.controller import Controller

    from include.mail import _SaveToFolder

    folder.mkdir(parents=True, exist_ok=True)
    ctx = server_context(cert, key)
    kwargs = (
        {"ssl_context": ctx} if mode == "ssl" else {"tls_context": ctx, "require_starttls": True}
    )
    return Controller(_SaveToFolder(folder), hostname="localhost", port=port, **kwargs)


@pytest.mark.parametrize("mode", ["ssl", "starttls"])
def test_mail_over_tls_once_per_period(campus, tls, tmp_path, monkeypatch, free_port, mode):
    from include.mail import read_messages

    cert, key = tls
    port = free_port()
    extra = {"from_email": "质管办 <qmo@hngy.example.cn>"}
    extra |= {"disable_tls": True} if mode == "ssl" else {"disable_ssl": True}
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        json.dumps({"conn_type": "smtp", "host": "localhost", "port": port, "extra": extra}),
    )
    folder = tmp_path / "mail"
    server = _serve(folder, port, cert, key, mode)
    if mode == "ssl":
        # aiosmtpd's readiness probe speaks plain SMTP; implicit TLS needs its own start
        server.ready_timeout = 5
    server.start()
    try:
        dept = builder.department_list()[0]
        kind, who = ("school", None) if mode == "ssl" else ("department", dept)
        # force: another test may have mailed this period already; resending is asked for here
        first = deliver.produce(
            kind, "term", TERM, who, url=campus.db_url, folder=tmp_path / "out", force=True
        )
        second = deliver.produce(
            kind, "term", TERM, who, url=campus.db_url, folder=tmp_path / "out"
        )
    finally:
        server.stop()
    assert first["sent"] and not second["sent"] and second["skipped_as_already_sent"]
    messages = read_messages(folder)
    assert len(messages) == 1
    msg = messages[0]
    assert msg["Subject"] == first["title"]
    assert "qmo@hngy.example.cn" in msg["From"]
    attachments = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(attachments) == 1
    assert len(msg.as_bytes()) < 2_000_000
    body = msg.get_body(preferencelist=("html",)).get_content()
    assert "data:image" not in body
    related = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert related or kind == "department"  # the school report always has trend charts
    assert all(f"cid:{p['Content-ID'].strip('<>')}" in body for p in related)
    with psycopg.connect(campus.db_url) as conn:
        sent = conn.execute(
            "select count(*) from reports.reports where message_id = %s and sent_at is not null",
            (msg["Message-ID"],),
        ).fetchone()[0]
    assert sent == 1


def test_failed_send_is_retried_and_recorded(campus, tmp_path, monkeypatch, free_port):
    port = free_port()  # nothing listens here: every attempt is refused
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": port,
                "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 5},
            }
        ),
    )
    monkeypatch.setattr(deliver, "RETRY_PAUSE", 0)
    dept = builder.department_list()[-1]
    with pytest.raises(RuntimeError, match="发送 3 次均失败"):
        deliver.produce("department", "month", "2026-09", dept, url=campus.db_url, folder=tmp_path)
    with psycopg.connect(campus.db_url) as conn:
        attempts, error, sent = conn.execute(
            "select send_attempts, send_error, sent_at from reports.reports "
            "where kind = 'department' and period_id = '2026-09' and department = %s "
            "order by report_id desc limit 1",
            (dept,),
        ).fetchone()
    assert attempts == 3 and "Connection" in error and sent is None


def test_school_report_names_late_and_missing_departments(campus, school):
    with psycopg.connect(campus.db_url, autocommit=True) as conn:
        period = periods.resolve(conn, "term", TERM)
        late_dept = builder.department_list()[0]
        conn.execute(
            "update reports.reports set generated_at = %s + interval '10 days' "
            "where kind = 'department' and period_id = %s and department = %s",
            (period.end_at, TERM, late_dept),
        )
        report = builder.build(conn, "school", period)
    rules = {f.rule: f.text for f in report.findings}
    assert late_dept in rules["late_report"]
    assert "缺报" in rules["missing_report"]
    table = next(s for s in report.sections if s.kind == "department_reports").blocks[0]
    assert [r[0] for r in table.rows if r[2] == "迟报"] == [late_dept]
