"""Personal-data classes, from the `pii:` of each field in the subsystem files, for dbt.

`./run sync` writes `dbt_project/macros/pii_classes.sql`: one macro returning staging column →
class (id_number, phone, bank_card, address, name). The marts never spell a mask themselves:
`{{ pii_masked('students.id_number') }}` and `{{ pii_hash(...) }}` (macros/pii.sql) look the
column's class up here, so a field declared personal in its subsystem file is protected the
same way in every mart, and a column nobody declared cannot be masked by accident (compile
error naming the file to fix).
"""

from __future__ import annotations

from include import settings
from include.registry import Registry

MACRO_FILE = settings.DBT_DIR / "macros" / "pii_classes.sql"


def classes(reg: Registry) -> dict[str, str]:
    """Staging column → personal-data class, over every subsystem file (sorted)."""
    out: dict[str, str] = {}
    for s in reg.subsystems.values():
        for res in s.api.resources.values() if s.api else ():
            for d in res.fields.values():
                if d.column and d.pii:
                    out.setdefault(d.column, d.pii)
    return dict(sorted(out.items()))


def dbt_macro(reg: Registry) -> str:
    pairs = ", ".join(f'"{c}": "{k}"' for c, k in classes(reg).items())
    return (
        "{#- 由 `./run sync` 从 connectors/subsystems/*.yml 的 pii: 声明生成，请勿手改"
        " (generated from the fields' pii declarations) -#}\n"
        "{% macro pii_classes() -%}\n"
        f"    {{{{ return({{{pairs}}}) }}}}\n"
        "{%- endmacro %}\n"
    )
