"""The dbt project without a database: responsibility agrees with Table 1 (connectors/), every
model and column is described in Chinese, every raw resource has its staging model, and the
profile follows the platform's warehouse URL.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from include import settings
from include.registry import load_registry
from include.warehouse import dbt

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(dbt.manifest_path().read_text(encoding="utf-8"))


def test_dbt_files_agree_with_the_registry():
    assert dbt.check() == [], "run `./run sync`"


def test_reassigning_a_department_names_the_dbt_files_to_update():
    reg = load_registry()
    card = reg.subsystems["campus_card"]
    reg.subsystems["campus_card"] = dataclasses.replace(
        card, managing_departments=("后勤处",), organising_departments=("后勤处",)
    )
    problems = dbt.check(reg)
    text = "\n".join(problems)
    assert "dbt_project/seeds/governance/registry_subsystems.csv" in text
    assert (
        "dbt_project/models/marts/student/_student__models.yml: model fct_card_transactions" in text
    )
    assert "config.group is '信息中心', registry says '后勤处'" in text
    assert all("`./run sync`" in p for p in problems)


def test_every_mart_has_a_group_owned_by_a_department_head(manifest):
    groups = {g["name"]: g for g in manifest["groups"].values()}
    reg = load_registry()
    marts = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    ]
    assert len(marts) >= 25
    for node in marts:
        group = node["config"]["group"]
        assert group in groups, f"{node['name']} has no group"
        assert groups[group]["owner"]["email"] == reg.departments[group].head.email
        meta = node["config"]["meta"]
        for key in ("subsystems", *dbt.GENERATED_META):
            assert meta.get(key), f"{node['name']}: meta.{key} missing"
        assert node["config"]["persist_docs"] == {"relation": True, "columns": True}


def test_every_model_and_column_is_described_in_chinese(manifest):
    missing = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "seed", "snapshot"):
            continue
        if node["package_name"] != "xiaoben":
            continue
        if not CJK.search(node.get("description") or ""):
            missing.append(node["name"])
        for col in node["columns"].values():
            if not CJK.search(col.get("description") or ""):
                missing.append(f"{node['name']}.{col['name']}")
    assert missing == []


def test_every_raw_resource_has_one_staging_model_reading_it_through_publishable():
    from connectors.spec import api_specs

    for sid, spec in api_specs().items():
        for name in spec.landed:
            path = settings.DBT_DIR / "models" / "staging" / sid / f"stg_{sid}__{name}.sql"
            assert path.exists(), f"missing {path.relative_to(settings.ROOT)}"
            text = path.read_text(encoding="utf-8")
            assert f"publishable('{sid}', '{name}'" in text, path.name
            assert "source(" not in text, f"{path.name} must read raw through publishable()"


def test_schemas_are_exactly_the_layer_names(manifest):
    schemas = {
        n["schema"]
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "seed", "snapshot") and n["package_name"] == "xiaoben"
    }
    assert schemas == {"staging", "intermediate", "marts", "snapshots", "seeds"}


def test_profile_environment_follows_the_warehouse_url(monkeypatch):
    """The URL's server and database, logging in as the transformer (issue 15) with its own
    password whatever user the URL names."""
    monkeypatch.setenv("XIAOBEN_TRANSFORMER_PASSWORD", "t@ns:former")
    env = dbt.dbt_env("postgresql://etl:s%40cret@db.campus:6543/dw?sslmode=require", base={})
    assert env["XIAOBEN_DBT_HOST"] == "db.campus"
    assert env["XIAOBEN_DBT_PORT"] == "6543"
    assert env["XIAOBEN_DBT_USER"] == "xiaoben_transformer"
    assert env["XIAOBEN_DBT_PASSWORD"] == "t@ns:former"
    assert env["XIAOBEN_DBT_DBNAME"] == "dw"
    assert env["XIAOBEN_DBT_SSLMODE"] == "require"
