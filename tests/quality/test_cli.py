"""`./run quality …`: Chinese help, one-line Chinese errors, and a day report that includes
the indicator warnings (real PostgreSQL)."""

from __future__ import annotations

import psycopg
import pytest

from include.quality import cli, report

from .conftest import fresh_database


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [[], ["ack"], ["report"], ["release"], ["digest"]])
def test_help_is_chinese(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*argv, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：") and "显示本帮助并退出" in out and "usage" not in out


def test_unknown_warning_is_one_chinese_line(warehouse_url, capsys):
    code, _, err = _run(capsys, "ack", "999999")
    assert (code, err) == (2, "没有编号为 999999 的预警\n")
    code, _, err = _run(capsys, "resolve", "999999", "--by", "x@hngy.example.cn", "--how", "已改")
    assert (code, err) == (2, "没有编号为 999999 的预警\n")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["report", "nosuch", "2026-09-22"], "没有编号为 nosuch 的子系统"),
        (["report", "academic", "2026-9-22x"], "日期格式不对：“2026-9-22x”"),
        (["ack", "abc"], "预警编号应为正整数"),
        (["release", "--pull", "7"], "缺少参数"),
        (["frobnicate"], "无效的选项"),
    ],
)
def test_bad_input_is_refused_in_one_chinese_line(warehouse_url, capsys, argv, expected):
    code, _, err = _run(capsys, *argv)
    assert code == 2 and expected in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_day_report_includes_indicator_warnings(warehouse_url):
    url = fresh_database(warehouse_url, "quality_cli_test")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute(
            "create table marts.dim_control_points as select 'CRS02'::text as control_point_code,"
            " 'academic'::text as source_subsystems"
        )
        (warning_id,) = conn.execute(
            """
            insert into quality.warnings (kind, warning_key, severity, title, detail,
                opened_at, recipients)
            values ('indicator', 'indicator|CRS02|2026-2027-1', '未达标',
                '质控点未达标：到课率（CRS02，2026-2027学年第一学期） 2 门课程未达到预警线',
                '合格线 ≥90%', '2026-09-22 09:00+08', '[]')
            returning warning_id
            """
        ).fetchone()
    rows = report.indicator_warnings("academic", "2026-09-22", url)
    assert [r["warning_id"] for r in rows] == [warning_id]
    assert report.indicator_warnings("finance", "2026-09-22", url) == []
    assert report.indicator_warnings("academic", "2026-09-21", url) == []
    text = report.format_report("academic", "2026-09-22", [], rows)
    assert "指标预警" in text and "到课率（CRS02" in text and "尚未发出邮件" in text
