"""Fields are declared once, in the subsystem files; everything derived from them is current.

`./run sync` writes dbt staging (sources, models YAML, SQL), the Soda contracts, the dbt
responsibility files and the connection lines of `.env.example`; this test fails, naming the
command, when any of them differs from what the subsystem files say.
"""

from __future__ import annotations

import shutil

from include import settings
from include.registry import load_registry
from include.sync import stale
from include.warehouse import staging


def test_every_generated_file_is_current():
    out = stale(load_registry())
    assert not out, (
        "与子系统文件不一致，请运行 `./run sync` (stale, run `./run sync`): " + "; ".join(out)
    )


def test_a_hand_written_staging_model_is_left_alone_and_named():
    files, hand = staging.expected(load_registry())
    names = {p.name for p in hand}
    assert "stg_academic__grades.sql" in names  # incremental: real logic, written by hand
    assert not any(p in files for p in hand)
    generated = staging.STAGING_DIR / "finance" / "stg_finance__budgets.sql"
    assert generated in files and staging.is_generated(generated)


def test_declared_fields_drive_staging_and_the_drift_list(tmp_path, monkeypatch):
    from include.quality.contracts import known_fields

    shutil.copytree(settings.SUBSYSTEMS_DIR, tmp_path / "subsystems")
    path = tmp_path / "subsystems" / "finance.yml"
    text = path.read_text(encoding="utf-8")
    line = '        PZH: {column: voucher_number, type: text, description: "凭证号"}\n'
    assert line in text
    new = '        BZ: {column: remark, type: text, description: "备注"}\n'
    path.write_text(text.replace(line, line + new), encoding="utf-8")
    monkeypatch.setenv("XIAOBEN_SUBSYSTEMS_DIR", str(tmp_path / "subsystems"))
    reg = load_registry(tmp_path / "subsystems")
    s = reg.subsystems["finance"]
    sql = staging.model_sql(s, s.api.resources["expenditures"])
    assert "{{ txt('BZ') }} as remark," in sql
    assert '- name: remark\n        description: "备注"' in staging.models_yaml(s)
    assert "BZ" in known_fields()["finance"]["expenditures"]
