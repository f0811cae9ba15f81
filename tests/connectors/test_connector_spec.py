"""The `api:` sections: every file parses, bad ones are refused in one line, field specs check."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from connectors import spec as spec_mod
from connectors.validate import Validator
from include import settings
from include.registry import RegistryError, load_registry
from include.rules import codes as code_sets
from include.rules.codes import code_set
from include.rules.codes import names as code_set_names
from include.rules.dates import TZ, date_parser, format_date
from include.rules.gb11643 import valid as gb11643_ok

NATIONAL = ("gb_t_2261_1_sex", "gb_3304_ethnicity", "gb_t_4762_political_status")


def test_every_subsystem_file_has_a_valid_api_section():
    specs = spec_mod.api_specs()
    assert len(specs) == 14
    for sid, s in specs.items():
        assert s.connection == f"xiaoben_{sid}"
        assert s.landed, sid
        for name in s.landed:
            r = s.resources[name]
            assert r.primary_key and r.required, f"{sid}.{name}"


def test_national_code_sets_are_complete():
    assert set(NATIONAL) | {"gb_t_4658_education"} <= set(code_set_names())
    assert set(code_set("gb_3304_ethnicity")) == {f"{i:02d}" for i in range(1, 57)}
    assert set(code_set("gb_t_4762_political_status")) == {f"{i:02d}" for i in range(1, 14)}
    assert {"1", "2"} <= set(code_set("gb_t_2261_1_sex"))
    assert {"11", "14", "21", "31"} <= set(code_set("gb_t_4658_education"))
    for name in code_set_names():
        assert list(code_sets.rows(name)[0])[:2] == ["code", "name_zh"], name


@pytest.fixture
def registry_dir(tmp_path: Path) -> Path:
    shutil.copytree(settings.SUBSYSTEMS_DIR, tmp_path / "subsystems")
    return tmp_path / "subsystems"


def _broken(registry_dir: Path, change) -> str:
    path = registry_dir / "campus_card.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["api"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        load_registry(registry_dir, settings.DEPARTMENTS_FILE)
    message = str(err.value)
    assert "\n" not in message and "campus_card.yml" in message
    return message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda a: a.pop("connection"), "api.connection: 缺少 (missing"),
        (lambda a: a["auth"].update(type="magic"), "api.auth.type"),
        (lambda a: a["resources"]["accounts"].pop("primary_key"), "accounts.primary_key"),
        (lambda a: a["resources"]["accounts"].update(primry_key=["x"]), "did you mean"),
        (lambda a: a["defaults"]["pagination"].update(type="pages"), "pagination.type"),
        (lambda a: a["resources"]["accounts"]["fields"].update(CustType={"code_set": "nope"}),
         "no code set 'nope'"),
        (lambda a: a["resources"]["transactions"]["cursor"].update(max_span="a month"),
         "max_span"),
        (lambda a: a["resources"]["accounts"]["fields"].update(OpenDate={"format": "dd/mm"}),
         "not a date format"),
    ],
)  # fmt: skip
def test_a_bad_api_section_is_refused_naming_file_and_field(registry_dir, change, expected):
    assert expected in _broken(registry_dir, change)


def test_dates_parse_strictly_in_each_vendor_format():
    assert date_parser("yyyyMMdd")("20260901") == datetime(2026, 9, 1, tzinfo=TZ)
    assert date_parser("yyyyMMddHHmmss")("20260901123456").second == 56
    assert date_parser("iso")("2026-09-03T10:15:00+08:00").hour == 10
    assert date_parser("epoch_ms")(1788192000000).tzinfo is not None
    for fmt, bad in [("yyyyMMdd", "20230231"), ("yyyy-MM-dd", "2026-13-01"),
                     ("yyyyMMdd", "2026091"), ("yyyy-MM-dd HH:mm:ss", "2026-09-31 20:00:00"),
                     ("yyyy-MM-dd", "2026/09/01")]:  # fmt: skip
        with pytest.raises(ValueError):
            date_parser(fmt)(bad)
    when = datetime(2026, 9, 1, 8, 0, tzinfo=TZ)
    assert format_date(when, "yyyy-MM-dd HH:mm:ss") == "2026-09-01 08:00:00"
    assert format_date(when, "epoch_ms") == 1788220800000
    assert format_date(when, "yyyy-MM-ddTHH:mm:ss") == "2026-09-01T08:00:00"


def test_gb11643_check_digit():
    assert gb11643_ok("34052419800101001X")
    assert not gb11643_ok("340524198001010010")
    assert not gb11643_ok("3405241980010100")


def test_validator_reasons_name_the_field():
    res = spec_mod.spec_for("academic").resources["students"]
    v = Validator(res)
    good = {"xh": "202610101001", "xm": "张三", "xbm": "1", "mzm": "01", "zzmmm": "03",
            "sfzjh": "34052419800101001X", "zydm": "550102", "bh_id": "2026101010",
            "csrq": "20080101", "rxrq": "20260901", "gxsj": "2026-09-01 10:00:00"}  # fmt: skip
    assert v.check(good, v.key(good)) is None
    cases = {
        "missing_key": {**good, "xh": ""},
        "missing_required": {k: x for k, x in good.items() if k != "xm"},
        "invalid_code": {**good, "mzm": "99"},
        "impossible_date": {**good, "csrq": "20060231"},
        "bad_id_checksum": {**good, "sfzjh": "340524198001010010"},
    }
    for code, record in cases.items():
        reason_code, field, reason = v.check(record, v.key(record))
        assert reason_code == code
        assert field in reason and "请" in reason
    assert v.check("not an object", None)[0] == "not_json"
    drifted = {**good, "kzzd1": "扩展字段值", "xm": "'; DROP TABLE students; --"}
    assert v.check(drifted, v.key(drifted)) is None
