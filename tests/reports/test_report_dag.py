"""The school report DAG run through Airflow (`dag.test()`, as the main job runs DAGs), by hand
for a given period with `resend`: the report is built, registered and mailed once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from include import settings
from include.mail import MailCatcher
from tests.dags.conftest import airflow_environment
from tests.reports.conftest import TERM

pytestmark = pytest.mark.slow

RUN = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags[sys.argv[2]]
run = dag.test(run_conf=json.loads(sys.argv[3]))
print("RUN " + json.dumps({"state": str(run.state)}))
"""


def test_school_term_dag_builds_registers_and_mails(campus, tmp_path):
    home = tmp_path / "airflow"
    with MailCatcher(tmp_path / "mail") as catcher:
        env = airflow_environment(home, {
            **catcher.connection_env(),
            "XIAOBEN_DATABASE_URL": campus.db_url,
            "XIAOBEN_HOME": str(tmp_path / "xiaoben"),
        })  # fmt: skip
        airflow = Path(sys.executable).with_name("airflow")
        migrate = subprocess.run([str(airflow), "db", "migrate"], env=env, capture_output=True,
                                 text=True, timeout=300)  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        conf = json.dumps({"period_id": TERM, "resend": True})
        run = subprocess.run(
            [sys.executable, "-c", RUN, str(settings.DAGS_DIR), "reports__school_term", conf],
            env=env, capture_output=True, text=True, timeout=600, cwd=settings.ROOT,
        )  # fmt: skip
        messages = catcher.messages()
    line = next((x for x in run.stdout.splitlines() if x.startswith("RUN ")), None)
    assert line and json.loads(line[4:])["state"] == "success", (run.stdout + run.stderr)[-4000:]
    assert [m["Subject"] for m in messages] == ["人才培养状态分析报告（2026-2027学年第一学期）"]
    with psycopg.connect(campus.db_url) as conn:
        row = conn.execute(
            "select dag_id, pdf_path, sent_at from reports.reports where kind = 'school' "
            "order by report_id desc limit 1"
        ).fetchone()
    assert row[0] == "reports__school_term" and row[2] is not None
    assert Path(row[1]).is_relative_to(tmp_path / "xiaoben" / "reports")
