"""Generate the raw-layer contracts from the connector files (`connectors/subsystems/*.yml`).

One contract per landed resource, `soda/contracts/raw_<id>/<resource>.yml`, written from what
the connector declares — primary key, `required:` fields, field hints (`code_set:`, a date
`format:`, `format: gb11643`), the field list — plus the subsystem's schedule (Table 1) and
the hand-written cross-system checks of `soda/cross_checks.yml`. The output is committed;
`tests/quality/test_contracts.py` fails when it is out of date (`python -m include.quality
generate` rewrites it). Every check is real SQL against `raw_<id>.<resource>`,
`landing.run_log` and `landing.rejects`:

- 原始性: raw table shape; every row traces to a finished pull of this resource; the pull's
  counts reconcile; no key twice in one pull; raw rows are never deleted.
- 规范性: code sets, real dates, ID check digits (guards in case the landing gate is bypassed),
  the landing rejects per reason, new fields (warn).
- 完整性: primary key and each required field present; the rejects for missing keys/fields;
  cross-system coverage (cross_checks.yml).
- 即时性: the last successful pull is not older than the schedule allows; the last pull did
  not fail.

Field-level checks use the expression form so Soda computes them all in one scan of the pulls
being verified (variable PULLS); the result store re-queries failing rows for samples.
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from croniter import croniter

from include import settings
from include.quality import catalog
from include.rules import codes as code_sets
from include.rules.dates import pg_pattern

CROSS_CHECKS_FILE = settings.SODA_DIR / "cross_checks.yml"
REJECT_REASONS = {
    "missing_key": "主键缺失",
    "missing_required": "必填字段缺失",
    "invalid_code": "代码不在代码集内",
    "impossible_date": "日期不存在",
    "bad_id_checksum": "身份证号校验位错误",
    "not_json": "不是 JSON 对象",
    "not_storable": "含无法存储的字符",
}
# What a refused record without a key is called in samples: it has nothing else to go by.
NO_KEY = "'无主键记录·拒收编号 ' || rej.reject_id"
HEADER = (
    "# 由 include/quality/contracts.py 根据 {source} 生成，请勿手改：改连接器文件或\n"
    "# soda/cross_checks.yml 后运行 `python -m include.quality generate`。\n"
    "# Generated from {source}; edit that file or soda/cross_checks.yml and regenerate.\n"
)


class _Block(str):
    """A string dumped as a YAML literal block (multi-line SQL)."""


def _block_representer(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Block, _block_representer)


def _sql(text: str) -> _Block:
    return _Block(textwrap.dedent(text).strip() + "\n")


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _of_resource(subsystem: str, resource: str, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return f"{prefix}subsystem = {_lit(subsystem)} and {prefix}resource = {_lit(resource)}"


def _field(name: str) -> str:
    return f"payload ->> {_lit(name)}"


def _blank(name: str) -> str:
    return f"coalesce({_field(name)}, '') = ''"


def date_condition(field: str, fmt: str) -> str:
    """SQL that is true when a non-empty value is not a real date in `fmt`."""
    value = _field(field)
    if fmt == "epoch_ms":
        return f"{value} !~ '^\\d{{1,16}}$'"
    if fmt == "iso":
        return f"not quality.is_timestamp({value})"
    return f"not quality.is_real_date({value}, {_lit(pg_pattern(fmt))})"


def allowed_hours(cron: str, timezone: str, deadline_hours: int) -> int:
    """Longest gap between two scheduled pulls in a year, plus the plan's deadline."""
    tz = ZoneInfo(timezone)
    it = croniter(cron, datetime(2026, 1, 1, tzinfo=tz))
    previous, longest = it.get_next(datetime), timedelta(0)
    end = previous + timedelta(days=366)
    while previous < end:
        nxt = it.get_next(datetime)
        longest, previous = max(longest, nxt - previous), nxt
    return int(longest.total_seconds() // 3600) + deadline_hours


def known_fields() -> dict[str, dict[str, list[str]]]:
    """Declared fields per raw resource (`fields:` of the subsystem files): the drift list."""
    from connectors.spec import api_specs

    return {
        sid: {name: list(res.fields) for name, res in spec.resources.items() if res.land}
        for sid, spec in api_specs().items()
    }


@cache
def cross_checks() -> dict[str, list[dict]]:
    if not CROSS_CHECKS_FILE.exists():
        return {}
    return yaml.safe_load(CROSS_CHECKS_FILE.read_text(encoding="utf-8")) or {}


def _check(kind: str, qualifier: str, name: str, **body) -> dict:
    catalog.check_class(qualifier)  # fail early on an unknown class
    return {kind: {"name": name, "qualifier": qualifier, **body}}


def raw_contract(subsystem, spec, res) -> dict:
    """The contract document for one landed resource."""
    sid, table = subsystem.id, res.name
    raw = f"raw_{sid}.{table}"
    where_res = _of_resource(sid, table)
    pulls = "pull_id in (${var.PULLS})"
    checks: list[dict] = [
        _check("schema", "raw_schema", "原始表只有落地约定的五列", allow_extra_columns=False),
        _check(
            "failed_rows",
            "traceable",
            "本批次每一行都来自本资源一次已结束的采集，且采集时间落在该次采集的起止时间内",
            query=_sql(f"""
                select raw.source_key, raw.pull_id
                from {raw} as raw
                left join landing.run_log as log
                    on log.pull_id = raw.pull_id and {_of_resource(sid, table, "log")}
                where raw.{pulls}
                  and (log.pull_id is null or log.status = 'running'
                       or raw.fetched_at < log.started_at - interval '10 minutes'
                       or raw.fetched_at > log.finished_at + interval '10 minutes')
            """),
        ),
        _check(
            "failed_rows",
            "reconciled",
            "本批次拉取条数 = 落地 + 重复 + 拒收，且落地条数与原始表中该批次的行数一致",
            query=_sql(f"""
                select 'pull ' || log.pull_id as source_key, log.pull_id
                from landing.run_log as log
                where log.{pulls} and {_of_resource(sid, table, "log")}
                  and (log.fetched <> log.landed + log.duplicates + log.rejected
                       or log.landed <> (select count(*) from {raw} as raw
                                         where raw.pull_id = log.pull_id))
            """),
        ),
        _check(
            "failed_rows",
            "duplicate_key",
            "同一批次中同一源记录键只出现一次",
            query=_sql(f"""
                select source_key, pull_id
                from {raw}
                where {pulls}
                group by source_key, pull_id
                having count(*) > 1
            """),
        ),
        _check(
            "metric",
            "immutable",
            "原始表只追加：自数据库统计以来没有删除过任何行",
            query=_sql(f"""
                select coalesce(sum(n_tup_del), 0)
                from pg_stat_user_tables
                where schemaname = {_lit("raw_" + sid)} and relname = {_lit(table)}
            """),
            threshold={"must_be": 0},
        ),
    ]
    key_from_record = res.key_from == "record"
    fields = res.fields
    if key_from_record:
        for key in res.primary_key:
            checks.append(
                _check(
                    "failed_rows",
                    f"missing_key__{key}",
                    f"本批次每条记录都有主键 {key}",
                    expression=_blank(key),
                )
            )
    for name in res.required:
        if name in res.primary_key and key_from_record:
            continue
        checks.append(
            _check(
                "failed_rows",
                f"missing_required__{name}",
                f"本批次每条记录都填写了必填字段 {name}",
                expression=_blank(name),
            )
        )
    for name, hint in sorted(fields.items()):
        if hint.code_set:
            values = ", ".join(_lit(v) for v in code_sets.code_set(hint.code_set))
            checks.append(
                _check(
                    "failed_rows",
                    f"invalid_code__{name}",
                    f"本批次 {name} 的取值都在代码集 {hint.code_set} 内",
                    expression=f"not {_blank(name)} and {_field(name)} not in ({values})",
                )
            )
        if hint.format == "gb11643":
            checks.append(
                _check(
                    "failed_rows",
                    f"bad_id_checksum__{name}",
                    f"本批次 {name} 都是校验位正确的身份证号（GB 11643）",
                    expression=f"not {_blank(name)} and not quality.gb11643_valid({_field(name)})",
                )
            )
        elif hint.format:
            checks.append(
                _check(
                    "failed_rows",
                    f"impossible_date__{name}",
                    f"本批次 {name} 都是真实存在的日期（格式 {hint.format}）",
                    expression=f"not {_blank(name)} and {date_condition(name, hint.format)}",
                )
            )
    # Outstanding rejects: a refused record stays a finding until a later pull lands a
    # corrected version of it; a refused record without a key counts until the next pull.
    for code, what in REJECT_REASONS.items():
        checks.append(
            _check(
                "failed_rows",
                f"rejected_{code}",
                f"没有因{what}被拒收、且至今未更正入库的记录",
                query=_sql(f"""
                    select
                        coalesce(rej.source_key, {NO_KEY}) as source_key,
                        rej.pull_id
                    from landing.rejects as rej
                    where {_of_resource(sid, table, "rej")} and rej.reason_code = {_lit(code)}
                      and case
                          when rej.source_key is null then rej.pull_id = (
                              select max(log.pull_id) from landing.run_log as log
                              where {_of_resource(sid, table, "log")} and log.status <> 'running'
                          )
                          else not exists (
                              select 1 from {raw} as raw
                              where raw.source_key = rej.source_key
                                and raw.fetched_at > rej.received_at
                          )
                      end
                """),
            )
        )
    listed = known_fields().get(sid, {}).get(table)
    if listed:
        declared = sorted(set(listed) | set(fields) | set(res.required) | set(res.primary_key))
        known = ", ".join(_lit(f) for f in declared)
        checks.append(
            _check(
                "failed_rows",
                "schema_drift",
                "本批次记录没有子系统文件 fields 中未登记的新字段",
                query=_sql(f"""
                    select raw.source_key, raw.pull_id
                    from {raw} as raw
                    where raw.{pulls} and jsonb_typeof(raw.payload) = 'object'
                      and exists (
                          select 1 from jsonb_object_keys(raw.payload) as k (name)
                          where k.name not in ({known})
                      )
                """),
                threshold={"must_be": 0, "level": "warn"},
            )
        )
    hours = allowed_hours(subsystem.cron, subsystem.timezone, subsystem.plan.deadline_hours)
    checks.append(
        _check(
            "metric",
            "late_pull",
            f"最近一次成功采集距今不超过 {hours} 小时（采集计划 {subsystem.cron}，"
            f"每期截止 +{subsystem.plan.deadline_hours} 小时）",
            query=_sql(f"""
                select coalesce(extract(epoch from now() - max(finished_at)) / 3600, 1000000)
                from landing.run_log
                where {where_res} and status = 'success'
            """),
            threshold={"must_be_less_than_or_equal": hours},
        )
    )
    checks.append(
        _check(
            "failed_rows",
            "pull_failed",
            "最近一次成功采集之后没有失败的采集",
            query=_sql(f"""
                select 'pull ' || pull_id || ': ' || left(coalesce(error, ''), 200) as source_key,
                       pull_id
                from landing.run_log
                where {where_res} and status = 'failed'
                  and started_at > coalesce((
                      select max(started_at) from landing.run_log
                      where {where_res} and status = 'success'
                  ), '-infinity')
            """),
        )
    )
    for extra in cross_checks().get(raw, []):
        body = {k: v for k, v in extra.items() if k not in ("qualifier", "name", "query")}
        checks.append(
            _check(
                "failed_rows", extra["qualifier"], extra["name"], query=_sql(extra["query"]), **body
            )
        )
    description = (
        f"{subsystem.name_zh}（{subsystem.id}）{res.description or table}：原始层数据契约。"
        f"主键 {', '.join(res.primary_key)}；"
        f"归口管理部门 {'、'.join(subsystem.managing_departments)}。"
    )
    return {
        "dataset": f"warehouse/${{var.WAREHOUSE_DB}}/raw_{sid}/{table}",
        "description": description,
        "variables": {
            "WAREHOUSE_DB": {"default": settings.warehouse_db()},
            "PULLS": {
                "default": f"select pull_id from landing.run_log where {where_res}",
            },
        },
        "filter": pulls,
        "columns": [
            {"name": "pull_id", "data_type": "bigint"},
            {"name": "fetched_at", "data_type": "timestamp with time zone"},
            {
                "name": "source_key",
                "data_type": "text",
                "checks": [
                    {
                        "missing": {
                            "name": "本批次每行都有源记录键",
                            "qualifier": "missing_key",
                        }
                    }
                ],
            },
            {"name": "payload_hash", "data_type": "text"},
            {"name": "payload", "data_type": "jsonb"},
        ],
        "checks": checks,
    }


# Masked identifiers keep their first and last characters; a full 18-character 身份证号 or an
# 11-digit mobile number in a mart means the masking failed.
UNMASKED = {"id_number": r"^[0-9]{17}[0-9Xx]$", "phone": r"^1[0-9]{10}$"}
STATUS_VALUES = ["达标", "预警", "未达标"]


def _mart_columns(model: dict) -> list[dict]:
    """Soda column entries from a dbt model's declared columns and their data tests."""
    columns = []
    for col in model.get("columns") or []:
        name, label = col["name"], str(col.get("description") or col["name"]).split("（")[0]
        tests = {t if isinstance(t, str) else next(iter(t)) for t in col.get("data_tests") or []}
        checks = []
        if "not_null" in tests:
            checks.append(_check("missing", f"mart_missing__{name}", f"{label}（{name}）不为空"))
        if "unique" in tests:
            checks.append(_check("duplicate", f"mart_unique__{name}", f"{label}（{name}）不重复"))
        for kind, pattern in UNMASKED.items():
            if name.startswith(kind) and name.endswith("_masked"):
                checks.append(_check(
                    "invalid", f"mart_masked__{name}", f"{label}（{name}）已脱敏，不含完整号码",
                    invalid_format={"name": f"完整的{label}", "regex": pattern},
                ))  # fmt: skip
        if name == "status" and "达标" in str(col.get("description")):
            checks.append(_check(
                "invalid", "mart_status__status", "质控点状态只取 达标、预警、未达标",
                valid_values=STATUS_VALUES,
            ))  # fmt: skip
        columns.append({"name": name, **({"checks": checks} if checks else {})})
    return columns


def mart_contract(model: str, description: str, declared: dict | None = None) -> dict:
    """The contract of one mart, from its dbt declaration: it was built, it is not empty, it
    has every declared column, its keys are present and unique, identifiers are masked."""
    columns = _mart_columns(declared or {})
    checks = [
        _check(
            "row_count",
            "row_count",
            f"数据集市表 {model} 有数据（数仓构建产出了它）",
            threshold={"must_be_greater_than": 0},
        )
    ]
    if columns:
        checks.insert(0, _check(
            "schema", "mart_schema", f"数据集市表 {model} 具备模型声明的全部列",
            allow_extra_columns=True,
        ))  # fmt: skip
    for extra in cross_checks().get(f"marts.{model}", []):
        checks.append(
            _check("failed_rows", extra["qualifier"], extra["name"], query=_sql(extra["query"]))
        )
    return {
        "dataset": f"warehouse/${{var.WAREHOUSE_DB}}/marts/{model}",
        "description": f"数据集市 marts.{model}：{description}".rstrip("："),
        "variables": {"WAREHOUSE_DB": {"default": settings.warehouse_db()}},
        "columns": columns,
        "checks": checks,
    }


def _mart_models() -> dict[str, tuple[str, str, dict]]:
    """model → (description, its SQL file relative to the repository, its dbt declaration)."""
    marts = settings.DBT_DIR / "models" / "marts"
    declared = {}
    for yml in sorted(marts.rglob("*.yml")):
        doc = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
        for model in doc.get("models") or []:
            declared[model["name"]] = model
    return {
        p.stem: (
            str(declared.get(p.stem, {}).get("description") or "").split("。")[0],
            str(p.relative_to(settings.ROOT)),
            declared.get(p.stem, {}),
        )
        for p in sorted(marts.rglob("*.sql"))
    }


def render(document: dict, source: str) -> str:
    body = yaml.dump(
        document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, indent=2
    )
    return HEADER.format(source=source) + body


def expected() -> dict[Path, str]:
    """Every generated contract: path → text."""
    from connectors.spec import api_specs, registry

    out = {}
    reg = registry()
    for sid, spec in api_specs().items():
        subsystem = reg.subsystems[sid]
        source = f"connectors/subsystems/{subsystem.source_file.name}"  # where it belongs
        for name in spec.landed:
            doc = raw_contract(subsystem, spec, spec.resources[name])
            out[catalog.CONTRACTS_DIR / f"raw_{sid}" / f"{name}.yml"] = render(doc, source)
    for model, (description, source, declared) in _mart_models().items():
        path = catalog.CONTRACTS_DIR / "marts" / f"{model}.yml"
        out[path] = render(mart_contract(model, description, declared), source)
    return out


def write_all(check_only: bool = False) -> list[Path]:
    """Write the generated contracts; returns those that changed (or would change)."""
    changed = []
    wanted = expected()
    for path, text in wanted.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed.append(path)
            if not check_only:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in sorted(catalog.CONTRACTS_DIR.glob("*/*.yml")):
        if path not in wanted and path.read_text(encoding="utf-8").startswith("# 由 include"):
            changed.append(path)  # generated for a resource that no longer exists
            if not check_only:
                path.unlink()
    return changed
