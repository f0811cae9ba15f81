"""The production-shaped stack: valid against the Compose specification, and complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from include import settings

COMPOSE = settings.ROOT / "docker-compose.yml"


def test_compose_file_is_valid_against_the_compose_spec():
    checker = Path(sys.executable).with_name("check-jsonschema")
    out = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def test_compose_has_the_stack_and_a_celery_scale_out_profile():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name in ("postgres", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                 "airflow-triggerer", "mailpit", "sandbox"):  # fmt: skip
        assert name in services and "profiles" not in services[name], name
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["profiles"] == ["celery"] == services["airflow-worker"]["profiles"]
    assert "celery worker" in " ".join(services["airflow-worker"]["command"])
    dockerfile = (settings.ROOT / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3" in dockerfile and "requirements.lock" in dockerfile


def test_no_secret_in_compose_and_every_subsystem_has_an_example_connection():
    text = COMPOSE.read_text()
    secrets = re.findall(r"^\s*\w*(?:PASSWORD|SECRET|FERNET_KEY)\w*:\s*(\S+)", text, re.M)
    assert secrets and all(v.startswith("${") for v in secrets), secrets
    assert all(u.startswith("${") for u in re.findall(r"//[^:/\s]+:([^@\s]+)@", text))
    example = (settings.ROOT / ".env.example").read_text()
    for sid in sorted(p.stem for p in settings.SUBSYSTEMS_DIR.glob("*.yml")):
        assert f"AIRFLOW_CONN_XIAOBEN_{sid.upper()}=" in example, sid
