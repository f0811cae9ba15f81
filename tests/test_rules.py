"""Each data rule has one home (`include/rules/`), and what is generated from it is current."""

from __future__ import annotations

import re
import subprocess

import jinja2
import psycopg
import pytest
import yaml

from connectors.spec import api_specs
from include import settings
from include.registry import RegistryError, load_registry, registry
from include.rules import dates, gb11643

MACROS = settings.DBT_DIR / "macros"
PLATFORM = ("connectors", "dags", "include")  # the run-time code (not the sandbox or tests)


def _tree_files(*suffixes: str) -> list:
    """Tracked and new files of the project (not .venv, dbt's target or other ignored state)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=settings.ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return [settings.ROOT / p for p in out if p.endswith(suffixes) and (settings.ROOT / p).exists()]


def _homes(pattern: str, *suffixes: str) -> list[str]:
    rx = re.compile(pattern)
    return sorted(
        str(p.relative_to(settings.ROOT))
        for p in _tree_files(*suffixes)
        if p.name != "test_rules.py" and rx.search(p.read_text(encoding="utf-8", errors="replace"))
    )


def test_the_date_token_table_exists_once():
    # a mapping keyed by a vendor token ({"yyyy": …}) or an alternation of the tokens
    found = _homes(r"""["']yyyy["']\s*:|yyyy\|MM\|dd""", ".py", ".sql", ".yml", ".j2")
    assert found == ["include/rules/dates.py"]


def test_generated_dbt_date_tokens_are_current():
    text = (MACROS / dates.DBT_MACROS).read_text(encoding="utf-8")
    assert text == dates.dbt_macros(), "运行 `./run sync` 重新生成 date_formats.sql"


class _Return(Exception):
    pass


def _raise_return(value):
    raise _Return(value)


def _returning(macro):
    def call(*args, **kwargs):
        try:
            return macro(*args, **kwargs)
        except _Return as r:
            return r.args[0]

    return call


@pytest.fixture(scope="module")
def dbt_date_format():
    """The dbt macro `date_format`, rendered by Jinja as dbt does (with dbt's `return`)."""
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals["return"] = _raise_return
    tokens = env.from_string((MACROS / dates.DBT_MACROS).read_text(encoding="utf-8")).module
    env.globals["date_tokens"] = _returning(tokens.date_tokens)
    env.globals["date_regex_specials"] = _returning(tokens.date_regex_specials)
    fields = env.from_string((MACROS / "fields.sql").read_text(encoding="utf-8")).module
    return _returning(fields.date_format)


def _declared_formats() -> dict[tuple[str, str, str], str]:
    """(subsystem, resource, field) → the date format the subsystem file declares."""
    out = {}
    for sid, spec in api_specs().items():
        for name, res in spec.resources.items():
            for field, hint in res.fields.items():
                if hint.format and hint.format != "gb11643":
                    out[sid, name, field] = hint.format
            if res.cursor is not None:
                out.setdefault((sid, name, res.cursor.field), res.cursor.format)
    return out


def test_dbt_reads_dates_as_python_and_the_contracts_do(dbt_date_format):
    formats = {f for f in _declared_formats().values() if f not in dates.SPECIAL_FORMATS}
    formats |= {"yyyy-MM-ddTHH:mm:ss", "yyyy.MM.dd", "yyyy/MM/dd HH:mm"}
    for fmt in sorted(formats):
        got = dbt_date_format(fmt)
        assert got == {"pg": dates.pg_pattern(fmt), "regex": f"^{dates.regex(fmt)}$"}, fmt
        checker = dates.date_checker(fmt)
        sample = dates.format_date(dates.date_parser("iso")("2026-09-01T08:05:09"), fmt)
        assert checker(sample) and re.fullmatch(got["regex"], sample), (fmt, sample)


def test_staging_models_use_the_format_the_subsystem_file_declares():
    declared = _declared_formats()
    checked = 0
    for (sid, name, field), fmt in declared.items():
        model = settings.DBT_DIR / "models" / "staging" / sid / f"stg_{sid}__{name}.sql"
        if not model.exists():
            continue
        for m in re.finditer(rf"\b(?:ts|dt)\('{re.escape(field)}', '([^']*)'\)", model.read_text()):
            assert m.group(1) == fmt, f"{model.name}: {field} 应按子系统文件的 format {fmt} 读取"
            checked += 1
    assert checked > 50


def test_the_gb11643_check_exists_once():
    assert _homes(r"7,\s*9,\s*10,\s*5,\s*8", ".py", ".sql", ".yml") == ["include/rules/gb11643.py"]


def test_gb11643_in_sql_agrees_with_python(warehouse_url):
    samples = ["34052419800101001X", "340524198001010010", "3405241980010100", "",
               "11010519491231002X", "11010519491231002x", "1101051949123100２X"]  # fmt: skip
    with psycopg.connect(warehouse_url) as conn:
        for value in samples:
            got = conn.execute("select quality.gb11643_valid(%s)", [value]).fetchone()[0]
            assert got == (gb11643.valid(value) and value[17:] != "x"), value


def test_the_code_set_loader_exists_once():
    # reading the seeds' CSV files is the loader's job; everything else asks it
    found = _homes(r"""["']seeds["']\s*/\s*["']codes["']""", ".py")
    assert found == ["include/rules/codes.py"]


def test_the_raw_table_ddl_exists_once():
    found = _homes(r"primary key \(source_key, payload_hash\)", ".py", ".sql", ".yml")
    assert found == ["include/warehouse/ddl/015_raw_tables.sql"]


def test_the_quality_office_is_a_role_in_departments_yml():
    assert registry().quality_office == "质管办"
    # platform code asks for the role; the sandbox's vendor tables and docstrings may name it
    code = [p for p in _tree_files(".py") if p.parts[len(settings.ROOT.parts)] in PLATFORM]
    named = [str(p.relative_to(settings.ROOT)) for p in code
             if re.search(r"""["']质管办["']""", p.read_text(encoding="utf-8"))]  # fmt: skip
    assert named == []


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (None, ("departments.yml: roles.quality_office: ", "no department has the role")),
        ({"quality_office": "质控办"}, ("roles.quality_office: ", "'质控办' is not a department")),
        ({"quality_office": "质管办", "qmo": "质管办"}, ("roles.qmo: ", "unknown")),
    ],
)
def test_a_bad_role_is_refused_with_file_and_field(tmp_path, roles, expected):
    data = yaml.safe_load(settings.DEPARTMENTS_FILE.read_text(encoding="utf-8"))
    data["roles"] = roles
    (tmp_path / "departments.yml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(RegistryError) as err:
        load_registry(settings.SUBSYSTEMS_DIR, tmp_path / "departments.yml")
    assert all(part in str(err.value) for part in expected) and "\n" not in str(err.value)


def test_latest_version_per_key_is_defined_once():
    found = _homes(r"fetched_at desc, (?:\w+\.)?pull_id desc", ".py", ".sql", ".yml")
    assert found == ["include/warehouse/ddl/015_raw_tables.sql"]
