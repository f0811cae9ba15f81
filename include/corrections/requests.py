"""A correction request (Annex 1): validated before any approval starts, then recorded.

The request names the reporting department, the subsystem, its records (resource, source key)
and fields, the new value, the reason and the filler. The value as landed is read from the
latest raw version of the record (raw is the truth of what the source sent). A request is
refused, with one Chinese line naming the record or field and the fix, when:

- the department, subsystem, resource or field is not declared (`connectors/subsystems/<id>.yml`);
- the record is not in `raw_<id>.<resource>`;
- the new value is outside the field's code set or format (the landing validator's own rules,
  `connectors.validate.Validator`, so the two can never disagree) or not of the field's type;
- the new value equals the current one;
- the record is already under an open correction.

Nothing is written for a refused request.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from psycopg import sql
from psycopg.rows import dict_row

from connectors.validate import Validator
from include.corrections import connect
from include.registry import Registry, registry

FORM_PREFIX = "GY"
OPEN_STATUSES = ("submitted", "approved")
TYPE_SHAPES = {  # field type -> (shape, what to write) for the types whose macro is strict
    "int": (re.compile(r"^-?[0-9]{1,18}$"), "整数"),
    "number": (re.compile(r"^-?[0-9]+(\.[0-9]+)?$"), "数字"),
    "amount": (re.compile(r"^-?[0-9]+(\.[0-9]+)?$"), "金额数字"),
}
NOT_CORRECTABLE = ("json", "text_array")


class CorrectionError(ValueError):
    """A bad request; the message is one Chinese line naming the record/field and the fix."""


@dataclass(frozen=True)
class Item:
    resource: str
    source_key: str
    field: str
    new_value: str
    old_value: str | None = None  # as the filler saw it; checked against raw when given


@dataclass(frozen=True)
class Request:
    reporting_department: str
    subsystem: str
    items: tuple[Item, ...]
    reason: str
    filler_name: str
    filler_user: str | None = None
    filler_email: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> Request:
        items = tuple(Item(**i) for i in d.get("items", []))
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d and k != "items"}
        return cls(items=items, **known)


def request_hash(form_no: str, req: Request) -> str:
    body = asdict(req) | {"form_no": form_no}
    body.pop("extra", None)
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def signature(name: str, at: datetime, decision: str, req_hash: str) -> str:
    """An electronic signature: the person's name, the time, the decision, the request's hash."""
    return hashlib.sha256(f"{name}|{at.isoformat()}|{decision}|{req_hash}".encode()).hexdigest()


def _raw_latest(conn, subsystem: str, resource: str, key: str) -> dict | None:
    """The record's current version (landing.latest_versions: the one definition)."""
    table = sql.SQL("{}.{}").format(sql.Identifier(f"raw_{subsystem}"), sql.Identifier(resource))
    exists = conn.execute("select to_regclass(%s)", [table.as_string(conn)]).fetchone()[0]
    if exists is None:
        return None
    return conn.execute(
        "select pull_id, payload from landing.latest_versions(%s::regclass) where source_key = %s",
        [table.as_string(conn), key],
    ).fetchone()


def _text(value) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def validate(conn, req: Request, reg: Registry | None = None) -> list[dict]:
    """The resolved items (old value, column, pull) of a valid request; CorrectionError if not."""
    reg = reg or registry()
    if req.reporting_department not in reg.departments:
        raise CorrectionError(
            f"报送部门 '{req.reporting_department}' 不在 connectors/departments.yml 中；"
            f"请用部门简称（如 教务处）。"
        )
    s = reg.subsystems.get(req.subsystem)
    if s is None or s.api is None:
        raise CorrectionError(
            f"子系统 '{req.subsystem}' 不存在或未配置采集；"
            f"请用 connectors/subsystems/ 中的子系统 id。"
        )
    if not req.reason.strip():
        raise CorrectionError("更正理由为空；请写明为何更正（附件1“数据采集更正内容”）。")
    if not req.filler_name.strip():
        raise CorrectionError("未写填报人；请写明填报人姓名。")
    if not req.items:
        raise CorrectionError("更正内容为空；请至少列出一条记录的一个字段。")
    resolved, seen = [], set()
    for item in req.items:
        where = f"{req.subsystem}.{item.resource} 记录 {item.source_key} 字段 {item.field}"
        res = s.api.resources.get(item.resource)
        if res is None:
            raise CorrectionError(
                f"{req.subsystem} 没有数据资源 '{item.resource}'；可用：{'、'.join(s.api.landed)}。"
            )
        hint = res.fields.get(item.field)
        if hint is None:
            raise CorrectionError(
                f"{where}：字段不存在（{s.source_file.name} 的 {item.resource}.fields 未声明）；"
                f"请核对字段名。"
            )
        base = (hint.type or "text").partition("(")[0]
        if base in NOT_CORRECTABLE:
            raise CorrectionError(
                f"{where}：{base} 类型的字段不能通过更正表修改；请在源系统中更正。"
            )
        if (item.resource, item.source_key, item.field) in seen:
            raise CorrectionError(f"{where}：同一字段在申请中出现两次；请只保留一项。")
        seen.add((item.resource, item.source_key, item.field))
        row = _raw_latest(conn, req.subsystem, item.resource, item.source_key)
        if row is None:
            raise CorrectionError(
                f"{where}：原始层 raw_{req.subsystem}.{item.resource} 中没有这条记录；"
                f"请核对源记录键。"
            )
        pull_id, payload = row
        current = _text(payload.get(item.field))
        if item.old_value is not None and item.old_value != current:
            raise CorrectionError(
                f"{where}：申请中的原值 '{item.old_value}' 与落地值 '{current}' 不符；"
                f"请按落地值填写原值。"
            )
        new = item.new_value.strip()
        if new == (current or ""):
            raise CorrectionError(f"{where}：新值 '{new}' 与当前值相同，无需更正。")
        shape = TYPE_SHAPES.get(base)
        if shape and not shape[0].match(new):
            raise CorrectionError(
                f"{where}：新值 '{new}' 不是{shape[1]}；请按字段类型 {hint.type} 填写。"
            )
        if base == "flag":
            allowed = ["1", "0", "true", "false"]
            if "(" in (hint.type or ""):
                allowed = [a.strip() for a in hint.type.partition("(")[2].rstrip(")").split(",")]
            if new not in allowed:
                raise CorrectionError(
                    f"{where}：新值 '{new}' 不是是否值；请填 {' 或 '.join(allowed)}。"
                )
        rejected = Validator(res).check({**payload, item.field: new}, item.source_key)
        if rejected and rejected[1] == item.field:
            raise CorrectionError(f"{where}：{rejected[2]}")
        busy = conn.execute(
            """
            select r.form_no from corrections.items i join corrections.requests r using (request_id)
            where i.subsystem = %s and i.resource = %s and i.source_key = %s
              and r.status = any(%s)
            limit 1
            """,
            [req.subsystem, item.resource, item.source_key, list(OPEN_STATUSES)],
        ).fetchone()
        if busy:
            raise CorrectionError(
                f"{where}：该记录已在更正中（{busy[0]} 尚未办结）；请等该更正表办结后再申请。"
            )
        resolved.append(asdict(item) | {
            "new_value": new, "old_value": current, "column_name": hint.column,
            "landed_pull_id": pull_id,
        })  # fmt: skip
    return resolved


def next_form_no(conn, year: int) -> str:
    seq = conn.execute(
        """
        insert into corrections.form_numbers (year, last_seq) values (%s, 1)
        on conflict (year) do update set last_seq = corrections.form_numbers.last_seq + 1
        returning last_seq
        """,
        [year],
    ).fetchone()[0]
    return f"{FORM_PREFIX}-{year}-{seq:04d}"


def submit(req: Request, url: str | None = None, reg: Registry | None = None) -> dict:
    """Validate and record a request; returns {request_id, form_no}. Nothing is written if bad."""
    with connect(url) as conn, conn.transaction():
        conn.execute("lock table corrections.requests in share row exclusive mode")
        items = validate(conn, req, reg)
        now = datetime.now(UTC)
        form_no = next_form_no(conn, now.astimezone().year)
        h = request_hash(form_no, req)
        request_id = conn.execute(
            """
            insert into corrections.requests (form_no, reporting_department, subsystem, reason,
                filler_name, filler_user, filler_email, submitted_at, request_hash)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s) returning request_id
            """,
            [form_no, req.reporting_department, req.subsystem, req.reason.strip(),
             req.filler_name, req.filler_user, req.filler_email, now, h],
        ).fetchone()[0]  # fmt: skip
        for i in items:
            conn.execute(
                """
                insert into corrections.items (request_id, subsystem, resource, source_key, field,
                    column_name, old_value, new_value, landed_pull_id)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                """,
                [request_id, req.subsystem, i["resource"], i["source_key"], i["field"],
                 i["column_name"], i["old_value"], i["new_value"], i["landed_pull_id"]],
            )  # fmt: skip
        conn.execute(
            """
            insert into corrections.steps (request_id, step_kind, assignee_user, assignee_name,
                responded_by, decision, opinion, at, signature)
            values (%s, 'submit', %s, %s, %s, 'submit', %s, %s, %s)
            """,
            [request_id, req.filler_user, req.filler_name, req.filler_user or req.filler_name,
             req.reason.strip(), now, signature(req.filler_name, now, "submit", h)],
        )  # fmt: skip
    return {"request_id": request_id, "form_no": form_no}


def load(conn, request_id: int) -> dict:
    """The request with its items and steps (dict rows), for the DAG and the form."""
    conn.row_factory = dict_row
    r = conn.execute(
        "select * from corrections.requests where request_id = %s", [request_id]
    ).fetchone()
    if r is None:
        raise CorrectionError(f"更正申请 {request_id} 不存在；请核对 request_id。")
    r["items"] = conn.execute(
        "select * from corrections.items where request_id = %s order by item_id", [request_id]
    ).fetchall()
    r["steps"] = conn.execute(
        "select * from corrections.steps where request_id = %s order by at, step_id", [request_id]
    ).fetchall()
    return r
