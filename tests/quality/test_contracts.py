"""The contracts: generated ones in sync, valid against Soda 4.28's schema, classes known."""

from __future__ import annotations

import json
import re
from importlib.resources import files

import jsonschema
import pytest
import yaml

from include.quality import catalog, contracts

CONTRACTS = catalog.contracts()
CJK = re.compile(r"[\u4e00-\u9fff]")


def _checks(document: dict) -> list[tuple[str, dict]]:
    found = [next(iter(c.items())) for c in document.get("checks") or []]
    for column in document.get("columns") or []:
        found += [next(iter(c.items())) for c in column.get("checks") or []]
    return found


def test_generated_raw_contracts_are_in_sync_with_the_connector_files():
    stale = contracts.write_all(check_only=True)
    assert not stale, f"run `python -m include.quality generate`: {stale}"


def test_every_landed_resource_has_a_contract():
    from connectors.spec import api_specs

    have = {c.dataset for c in CONTRACTS}
    want = {f"raw_{sid}.{r}" for sid, spec in api_specs().items() for r in spec.landed}
    assert want <= have, sorted(want - have)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.relative_path)
def test_contract_is_valid_soda_4_28(contract):
    schema_file = files("soda_core.contracts") / "soda_data_contract_json_schema_1_0_0.json"
    schema = json.loads(schema_file.read_text())
    document = contract.document()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(e.message for e in validator.iter_errors(document))
    assert not errors, errors
    schema_name, table = document["dataset"].split("/")[2:]
    assert (schema_name, table) == (contract.schema, contract.table), "path must mirror dataset"


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.relative_path)
def test_every_check_has_a_known_class_a_unique_key_and_a_chinese_sentence(contract):
    checks = _checks(contract.document())
    keys = [body["qualifier"] for _, body in checks]
    assert len(keys) == len(set(keys)), "qualifiers must be unique within a contract"
    principles = set()
    for kind, body in checks:
        klass = catalog.check_class(body["qualifier"])
        principles.add(klass.principle)
        assert CJK.search(body["name"]), f"{body['qualifier']}: name must be a Chinese sentence"
        if klass.blocking and contract.layer == "raw" and kind == "failed_rows":
            # a hold needs to know which pulls failed: blocking queries return pull_id
            assert "expression" in body or "pull_id" in body["query"], body["qualifier"]
    if contract.layer == "raw":
        missing = set(catalog.PRINCIPLES) - principles
        assert not missing, f"no check for {missing}"


def test_data_source_reads_credentials_from_the_environment_only():
    text = catalog.DATA_SOURCE_FILE.read_text(encoding="utf-8")
    connection = yaml.safe_load(text)["connection"]
    for key in ("host", "port", "database", "user", "password"):
        assert re.fullmatch(r"\$\{env\.[A-Z_]+\}", str(connection[key])), key


def test_freshness_allows_one_schedule_gap_plus_the_deadline():
    assert contracts.allowed_hours("30 1 * * *", "Asia/Shanghai", 8) == 32
    assert contracts.allowed_hours("0 * * * *", "Asia/Shanghai", 2) == 3
    # employment: the 10th, 20th and 30th; February 2026 has no 30th: 20 Feb → 10 Mar = 18 days
    assert contracts.allowed_hours("0 3 10,20,30 * *", "Asia/Shanghai", 24) == 18 * 24 + 24


def test_cross_checks_name_existing_datasets_and_classes():
    have = {c.dataset for c in CONTRACTS}
    for dataset, checks in contracts.cross_checks().items():
        assert dataset in have, dataset
        for check in checks:
            catalog.check_class(check["qualifier"])
            if dataset.startswith("raw_"):
                assert "source_key" in check["query"] and "pull_id" in check["query"]
            else:  # a mart has no pull: the first column names the record in words
                assert " as record," in check["query"]
