"""Staging from the field declarations of the subsystem files (issue 9: fields declared once).

Each landed resource of `connectors/subsystems/<id>.yml` lists its fields: source name, the
English column (`column`), its conversion (`type`), code set or format, Chinese description,
dbt tests and personal-data class (`pii`). From that one declaration this module writes, per
subsystem, under `dbt_project/models/staging/<id>/`:

- `_<id>__sources.yml`: the raw tables (verbatim JSONB payloads) as dbt sources;
- `stg_<id>__<resource>.sql`: one view per resource, one line per declared column, by the
  macros of `dbt_project/macros/fields.sql`;
- `_<id>__models.yml`: every staging model's and column's Chinese description and tests.

A staging model that needs real logic (incremental, derived columns, filters) is written by
hand: a `.sql` file without the generated header is left alone (and `./run sync` says so);
its columns are still documented from the declaration plus the resource's
`derived_columns`. `./run sync` writes these files; `check()` lists the stale ones.

Field `type` values (the macro each one calls):
  code · text · int · number(<scale>) · flag · flag(<true>,<false>) · amount(fen|yuan|wan_yuan)
  · timestamp · date · json · text_array
A timestamp or date is read in the notation the file declares (the field's `format:`, else its
resource's cursor format): `ts('gxsj', 'yyyy-MM-dd HH:mm:ss')`, by the tokens of
include/rules/dates.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from include import settings
from include.registry import Registry, Subsystem

STAGING_DIR = settings.DBT_DIR / "models" / "staging"
MARKER = "-- 由 `./run sync` 从 {source} 生成，请勿手改 (generated from the subsystem file)"
SECTIONS = {  # section comment of the staging SQL, in order, and the types it holds
    "ids and codes": ("code",),
    "text": ("text",),
    "numbers": ("int", "number"),
    "money (yuan)": ("amount",),
    "booleans": ("flag",),
    "dates": ("date",),
    "timestamps": ("timestamp",),
    "documents": ("json", "text_array"),
}
LINEAGE = [
    ("source_key", "源记录键（原始层 source_key）", ["not_null", "unique"]),
    ("pull_id", "采集批次ID（可追溯至 landing.run_log）", []),
    ("fetched_at", "该版本的采集时间", []),
    ("payload_hash", "该版本的载荷哈希（可追溯至原始层记录）", []),
]
RAW_COLUMNS = [
    ("pull_id", "采集批次ID（landing.run_log）"),
    ("fetched_at", "采集时间"),
    ("source_key", "源记录主键（复合主键各字段以 | 连接）"),
    ("payload_hash", "载荷哈希（同一主键的不同版本以此区分）"),
    ("payload", "接口返回的原始记录（JSONB）"),
]
RAW_TABLE_SUFFIX = "接口原始载荷，每个版本一行）"
MODEL_SUFFIX = (
    "接口字段更名为英文、类型转换、空串为空值、时间统一为北京时间 timestamptz、金额统一为元；"
    "每个源记录仅保留最新已发布版本。"
)


def date_format(res, field: str) -> str | None:
    """The format a field is read in: its own `format:`, else its resource's cursor's."""
    own = res.fields[field].format
    if own is None and res.cursor is not None and res.cursor.field == field:
        return res.cursor.format
    return own


def macro(field: str, type_: str, fmt: str | None = None) -> str:
    """The staging expression of one declared field (`fmt`: a timestamp's or date's format)."""
    name, _, arg = type_.partition("(")
    args = [a.strip() for a in arg.rstrip(")").split(",")] if arg else []
    if name in ("timestamp", "date"):
        args = [fmt]
    q = lambda v: f"'{v}'"  # noqa: E731
    call = {
        "code": "code", "text": "txt", "int": "int_", "number": "num", "flag": "flag",
        "amount": "yuan", "timestamp": "ts", "date": "dt", "json": "jsonb_field",
        "text_array": "text_array",
    }[name]  # fmt: skip
    rendered = [q(field)] + [a if name == "number" else q(a) for a in args]
    return f"{{{{ {call}({', '.join(rendered)}) }}}}"


def _section(type_: str) -> str:
    base = type_.partition("(")[0]
    return next(s for s, types in SECTIONS.items() if base in types)


def _source(s: Subsystem) -> str:
    try:
        return str(s.source_file.resolve().relative_to(settings.ROOT))
    except ValueError:
        return f"connectors/subsystems/{s.source_file.name}"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def staged_fields(res) -> list[tuple[str, object]]:
    """(source field, declaration) of every field that becomes a staging column, in file order."""
    return [(f, d) for f, d in res.fields.items() if d.column]


def model_sql(s: Subsystem, res) -> str:
    lines = [
        MARKER.format(source=_source(s)),
        "with",
        "",
        "source as (",
        "",
        f"    select * from {{{{ publishable('{s.id}', '{res.name}') }}}} as raw_rows",
        "",
        "),",
        "",
        "renamed as (",
        "",
        "    select",
    ]
    fields = [(f, d) for f, d in staged_fields(res) if d.type]
    for section in SECTIONS:
        mine = [(f, d) for f, d in fields if _section(d.type) == section]
        if mine:
            lines.append(f"        ---------- {section}")
            lines += [
                f"        {macro(f, d.type, date_format(res, f))} as {d.column}," for f, d in mine
            ]
    lines += [
        "        ---------- lineage",
        "        {{ lineage_columns() }}",
        "",
        "    from source",
        "",
        ")",
        "",
        "select * from renamed",
    ]
    return "\n".join(lines) + "\n"


def sources_yaml(s: Subsystem) -> str:
    spec = s.api
    content = s.content.rstrip("。")
    lines = [
        f"# 原始层 raw_{s.id}: {s.name_zh} 的接口载荷原样落地（采集层写入，dbt 只读）。",
        "version: 2",
        "",
        "sources:",
        f"  - name: raw_{s.id}",
        f"    schema: raw_{s.id}",
        f"    description: {_q(f'{s.name_zh}（{s.name_en}）原始层：{content}。载荷按接口原样保存为 JSONB，不做任何修改。')}",  # noqa: E501
        "    loader: connectors",
        "    config:",
        "      meta:",
        f"        subsystem: {s.id}",
        "    tables:",
    ]
    for name in _landed(spec):
        res = spec.resources[name]
        lines += [
            f"      - name: {name}",
            f"        description: {_q(f'{res.description}（{s.name_zh}{RAW_TABLE_SUFFIX}')}",
            "        columns:",
        ]
        lines += [f"          - {{name: {c}, description: {d}}}" for c, d in RAW_COLUMNS]
    return "\n".join(lines) + "\n"


def _landed(spec) -> list[str]:
    return [n for n, r in spec.resources.items() if r.land]  # file order, as the tables read


def _column(name: str, description: str, tests, source_field=None, pii=None) -> list[str]:
    out = [f"      - name: {name}", f"        description: {_q(description)}"]
    meta = {k: v for k, v in (("source_field", source_field), ("pii", pii)) if v}
    if meta:
        out.append(
            f"        config: {{meta: {{{', '.join(f'{k}: {v}' for k, v in meta.items())}}}}}"
        )
    if tests:
        out.append(f"        data_tests: [{', '.join(tests)}]")
    return out


def models_yaml(s: Subsystem) -> str:
    spec = s.api
    lines = ["version: 2", "", "models:"]
    for name in _landed(spec):
        res = spec.resources[name]
        lines += [
            f"  - name: stg_{s.id}__{name}",
            f"    description: {_q(f'{res.description}：{s.name_zh}{MODEL_SUFFIX}')}",
            f"    config: {{meta: {{subsystems: [{s.id}]}}}}",  # data_responsibility lists it
            "    columns:",
        ]
        for field, d in staged_fields(res):
            lines += _column(d.column, d.description or d.column, d.tests, field, d.pii)
        for c in res.derived_columns:
            lines += _column(c["name"], c["description"], c["tests"], c["source_field"])
        for c, desc, tests in LINEAGE:
            lines += _column(c, desc, tests)
    return "\n".join(lines) + "\n"


def is_generated(path: Path) -> bool:
    return path.exists() and path.read_text(encoding="utf-8").startswith("-- 由 `./run sync`")


def expected(reg: Registry) -> tuple[dict[Path, str], list[Path]]:
    """Every generated staging file (path → text), and the hand-written models left alone."""
    files, hand = {}, []
    for s in reg.subsystems.values():
        if s.api is None:
            continue
        folder = STAGING_DIR / s.id
        files[folder / f"_{s.id}__sources.yml"] = sources_yaml(s)
        files[folder / f"_{s.id}__models.yml"] = models_yaml(s)
        for name in _landed(s.api):
            path = folder / f"stg_{s.id}__{name}.sql"
            if path.exists() and not is_generated(path):
                hand.append(path)
            else:
                files[path] = model_sql(s, s.api.resources[name])
    return files, hand
