"""The quality DAGs' integrity, and mail through Airflow's SMTP connection to a real server."""

from __future__ import annotations

from email.header import decode_header, make_header

import pytest

from include import mail
from include.settings import DAGS_DIR


@pytest.fixture(scope="module")
def quality_dags(tmp_path_factory):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow_home")))
        env.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAGS_DIR / "quality.py"))
        assert not bag.import_errors, bag.import_errors
        return bag.dags


def _assets(condition) -> set[str]:
    if hasattr(condition, "objects"):
        return {name for o in condition.objects for name in _assets(o)}
    return {condition.name}


def test_quality_dags_are_owned_by_qmo_and_retry(quality_dags):
    assert set(quality_dags) == {"quality__landing", "quality__warehouse", "quality__digest"}
    for dag in quality_dags.values():
        assert dag.owner == "质管办"  # Article 10: QMO monitors
        assert dag.default_args["retries"] >= 2
        assert {"quality", "质量"} <= set(dag.tags)
        assert dag.doc_md and "质管办" in dag.doc_md


def test_quality_dags_follow_landing_and_the_warehouse_build(quality_dags):
    from connectors.spec import api_specs

    raw = {f"raw_{sid}.{r}" for sid, spec in api_specs().items() for r in spec.landed}
    landing = quality_dags["quality__landing"]
    assert _assets(landing.timetable.asset_condition) == raw
    assert _assets(quality_dags["quality__warehouse"].timetable.asset_condition) == {"marts"}
    digest = quality_dags["quality__digest"]
    assert _assets(digest.timetable.asset_condition) == {"quality.warnings"}
    assert "30 8 * * *" in repr(digest.timetable.timetable)
    produced = {o.name for t in quality_dags["quality__warehouse"].tasks for o in t.outlets}
    assert produced == {"quality.warnings"}


def test_mail_goes_through_the_smtp_connection_to_a_real_server(catcher):
    settings = mail.smtp_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", catcher.port)
    assert not settings.use_ssl and not settings.starttls
    msg = mail.build_message(
        [("黄晓燕", "huang.xiaoyan@hngy.example.cn")], "测试：预警日报", "正文", "<p>正文</p>"
    )
    message_id = mail.send(msg)
    [received] = catcher.messages()
    assert received["Message-ID"] == message_id
    assert str(make_header(decode_header(received["Subject"]))) == "测试：预警日报"
    assert "qmo@hngy.example.cn" in received["From"]  # the connection's from_email
    assert received["X-Envelope-To"] == "huang.xiaoyan@hngy.example.cn"
    assert [p.get_content_type() for p in received.walk() if not p.is_multipart()] == [
        "text/plain",
        "text/html",
    ]
    assert (catcher.directory / "..").exists() and list(catcher.directory.glob("*.eml"))
