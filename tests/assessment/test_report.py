"""The ranked assessment report: every printed number recomputes from warehouse rows, the barred
departments carry their evidence, and the report is mailed (real SMTP) to the leading group and
质管办 with the PDF attached."""

from __future__ import annotations

import psycopg
import pytest

from include.assessment import compute, report
from include.assessment.rules import load
from include.mail import MailCatcher
from include.registry import registry
from tests.assessment.conftest import YEAR


@pytest.fixture(scope="module")
def produced(college, tmp_path_factory):
    from include import assessment

    folder = tmp_path_factory.mktemp("assessment")
    with MailCatcher(folder / "mail") as catcher:
        with pytest.MonkeyPatch.context() as env:
            for key, value in catcher.connection_env().items():
                env.setenv(key, value)
            result = assessment.produce(YEAR, url=college, folder=folder / "out")
        messages = catcher.messages()
    return result, messages


def test_every_printed_number_recomputes(college, produced):
    result, _ = produced
    rules = load()[0]
    with psycopg.connect(college, autocommit=True) as conn:
        a = compute.compute(conn, YEAR)  # same rows, same rules: the same numbers
        rep = report.build(conn, a)
        assert rep.figures and not rep.refused
        for fig in rep.figures.values():
            (value,) = conn.execute(fig.query, fig.params).fetchone()
            assert value is not None and float(value) == pytest.approx(fig.value), fig.key
        # the stored facts recompute from landing / quality / reports rows
        for f in a.facts:
            n, d, ids = conn.execute(f.query, f.params).fetchone()
            assert (float(n), float(d), list(ids)) == (f.numerator, f.denominator, f.row_ids)
            # the score follows the curve in rules.yml; the totals follow the weights
            assert f.score == rules.indicators[f.indicator].score(f.value)
        for r in a.results:
            assert r.total == compute.total_score(rules, r.scores)
            assert r.barred == (r.total < rules.pass_line)
        first = conn.execute(
            "select department, total from assessment.results where run_id = %s order by rank",
            (result["run_id"],),
        ).fetchall()
    assert [(d, float(t)) for d, t in first] == [(r.department, r.total) for r in a.results]


def test_barred_department_with_evidence(produced):
    result, _ = produced
    assert "财务处" in result["barred"]
    html = open(result["html"], encoding="utf-8").read()
    assert "财务处 综合得分" in html and "不得参与本年度评优评先" in html
    assert "采集未按期：finance" in html  # which pulls were late
    assert "预警未按期解决：" in html and "凭证日期不存在" in html  # which warnings stayed open
    assert "部门数据分析报告 2026-10 缺报" in html  # which reports were missing
    assert "2026-09 缺报" not in html  # September closed before finance's first pull
    # which correction steps and review tasks waited how long
    assert "更正审批步骤等待 96 小时：更正表 GY-2026-9002" in html and "两次逾期未签" in html
    assert "部门审核任务等待" in html and "finance 2026-10" in html and "至计算时仍未答复" in html


def test_mailed_to_leading_group_and_quality_office(produced):
    result, messages = produced
    assert result["sent"] and len(messages) == 1
    msg = messages[0]
    reg = registry()
    qmo = reg.departments[reg.quality_office]
    to = msg["To"]
    assert all(v.email in to for v in reg.vice_presidents.values())
    assert qmo.head.email in to
    pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_content().startswith(b"%PDF")
    assert msg["Subject"] == result["title"]
