"""The Annex 1 chain from the registry, and the Airflow users of the people who sign."""

from __future__ import annotations

from include.corrections.chain import airflow_users, signers
from include.registry import registry


def test_two_heads_when_organising_and_managing_departments_differ():
    chain = signers("major_development", "设计创新学院")
    reg = registry()
    assert [s.step for s in chain] == [
        "organising_head", "managing_head", "vice_president", "quality_office",
    ]  # fmt: skip
    assert chain[0].name == reg.departments["设计创新学院"].head.name
    assert chain[1].name == reg.departments["教务处"].head.name
    assert chain[2].name == reg.departments["教务处"].vice_president.name
    assert chain[3].department == "质管办"


def test_one_head_step_when_they_coincide():
    assert [s.step for s in signers("academic", "教务处")] == [
        "department_heads", "vice_president", "quality_office",
    ]  # fmt: skip


def test_every_signer_has_an_airflow_user():
    users = airflow_users()
    for sid in registry().subsystems:
        for s in signers(sid, ""):
            assert s.user in users, (sid, s)
