"""钉钉 old server API: gettoken, errcode envelopes, listids-then-get, attendance/list."""

from __future__ import annotations

import datetime as dt
import json

from ..domains.dingtalk import ROOT, TEMPLATES
from ..store import Rows
from ..timefmt import DAY, day_start, parse_iso
from ..web import ROWS, Request, Response, Tokens, envelope, page_rows, reply, request_id, to_int
from .base import Api

P = "/dingtalk"


class DingTalkApi(Api):
    def __init__(self, sandbox, subsystem):
        super().__init__(sandbox, subsystem)
        self.tokens = Tokens(7200)
        self.public = {f"{P}/gettoken": self.login}
        self.routes = {
            f"{P}/topapi/v2/department/listsub": self.departments,
            f"{P}/topapi/v2/user/list": self.users,
            f"{P}/topapi/process/listbyuserid": self.templates,
            f"{P}/topapi/processinstance/listids": self.listids,
            f"{P}/topapi/processinstance/get": self.get,
            f"{P}/attendance/list": self.attendance,
            f"{P}/topapi/message/corpconversation/asyncsend_v2": self.work_notice,
        }
        self._cache: dict = {}

    def extra_paths(self) -> set[str]:
        return set(self.routes)

    def login(self, req: Request) -> Response:
        q = req.query
        if not self.credentials_ok(q.get("appkey"), q.get("appsecret")):
            return reply({"errcode": 40089, "errmsg": "不合法的appKey或appSecret"})
        token, _ = self.tokens.issue(reuse=True)  # the same token while it is valid
        return reply({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    def token_of(self, req: Request) -> str:
        return req.query.get("access_token", "")

    def expired(self, req: Request) -> Response:
        return reply({"errcode": 42001, "errmsg": "access_token超时", "request_id": request_id()})

    def unknown_token(self, req: Request) -> Response:
        return reply(
            {"errcode": 40014, "errmsg": "不合法的access_token", "request_id": request_id()}
        )

    def rate_limited(self, req: Request) -> Response:
        wait = self.sb.faults.rates["retry_after_seconds"]
        wait = int(wait) if wait == int(wait) else wait  # the gateway writes whole seconds
        if req.draw.variant < 0.5:
            return reply(
                {
                    "errcode": 90018,
                    "errmsg": "当前应用调用该接口频率过快，请稍后重试",
                    "request_id": request_id(),
                }
            )
        # the gateway's per-IP block: not an errcode body at all
        return reply(
            {"status": 1111, "wait": wait, "source": "x5", "punish": "deny", "uuid": request_id()},
            403,
        )

    def bad(self, message: str) -> Response:
        return reply(
            {"errcode": 40035, "errmsg": f"不合法的参数: {message}", "request_id": request_id()}
        )

    def ok(self, payload: dict, rows: bytes | None = None) -> Response:
        payload = {"errcode": 0, "errmsg": "ok", **payload, "request_id": request_id()}
        return envelope(payload, rows) if rows is not None else reply(payload)

    def work_notice(self, req: Request, body: dict) -> Response:
        """工作通知 (asyncsend_v2): the platform's tasks and reminders to a person's DingTalk.
        Kept in `sandbox.work_notices` (GET /_admin/dingtalk/messages) and printed to the log."""
        users = [u for u in str(body.get("userid_list") or "").split(",") if u]
        msg = body.get("msg") or {}
        if not body.get("agent_id") or not users or msg.get("msgtype") not in ("text", "markdown"):
            return self.bad("agent_id、userid_list 与 msg.msgtype 必填")
        notices = self.sb.__dict__.setdefault("work_notices", [])
        task_id = len(notices) + 1
        content = (msg.get("text") or msg.get("markdown") or {}).get("content") or ""
        notices.append({"task_id": task_id, "agent_id": body["agent_id"], "userids": users,
                        "content": content, "at": self.sb.now.isoformat()})  # fmt: skip
        print(f"钉钉工作通知 → {','.join(users)}: {content.splitlines()[0] if content else ''}",
              flush=True)  # fmt: skip
        return self.ok({"task_id": task_id})

    def serve(self, req: Request, spec) -> Response:
        return self.routes[req.path](req, req.json)

    # ---- contacts -------------------------------------------------------------------

    def departments(self, req: Request, body: dict) -> Response:
        parent = to_int(body.get("dept_id"), ROOT)
        rows = self.sb.rows(self.sub, "departments")
        picked = [
            n
            for n, r in enumerate(rows.records)
            if r.get("parent_id") == parent and r.get("dept_id") != parent
        ]
        return self.ok({"result": ROWS}, b",".join(rows.json(n, n + 1) for n in picked))

    def users(self, req: Request, body: dict) -> Response:
        size = to_int(body.get("size"), 100)
        if not 1 <= size <= 100:
            return self.bad("size")
        dept = to_int(body.get("dept_id"), ROOT)
        rows = self._cached(
            ("users", dept, self.sb.version),
            lambda: self.sb.rows(self.sub, "users").filter(
                lambda r: dept in r.get("dept_id_list", [])
            ),
        )
        cursor = to_int(body.get("cursor"), 0)
        more = cursor + size < len(rows)
        result = {"has_more": more, "list": ROWS}
        if more:
            result["next_cursor"] = cursor + size
        body_rows = page_rows(rows, cursor, size, req.draw)
        return envelope(
            {"errcode": 0, "errmsg": "ok", "result": result, "request_id": request_id()}, body_rows
        )

    def templates(self, req: Request, body: dict) -> Response:
        items = [
            {"process_code": code, "name": name, "url": "", "icon_url": ""}
            for code, name in TEMPLATES.items()
        ]
        return self.ok({"result": {"process_list": items}})

    # ---- approvals ------------------------------------------------------------------

    def listids(self, req: Request, body: dict) -> Response:
        size = to_int(body.get("size"), 20)
        if not 1 <= size <= 20:
            return self.bad("size必须在1到20之间")
        code = body.get("process_code", "")
        if code not in TEMPLATES:
            return self.bad("process_code")
        now = self.sb.now_ts
        lo = to_int(body.get("start_time"), 0) // 1000
        hi = to_int(body.get("end_time"), now * 1000) // 1000
        if lo < now - 365 * DAY or hi - lo > 120 * DAY or hi < lo:
            return reply({"errcode": 40035, "errmsg": "invalidEndTime", "request_id": request_id()})
        users = tuple(sorted(u for u in str(body.get("userid_list") or "").split(",") if u))
        domain = self.domain

        def select() -> list:
            rows = self.sb.rows(self.sub, "approvals", lo, hi)
            return [
                k
                for k, r in zip(rows.keys, rows.records, strict=True)
                if domain.process_code.get(k) == code
                and (not users or r.get("originator_userid") in users)
            ][:10000]

        ids = self._cached(("listids", code, lo, hi, users, self.sb.version), select)
        cursor = to_int(body.get("cursor"), 0)
        id_rows = Rows(ids, ids, [json.dumps(i).encode() for i in ids])
        result = {"list": ROWS}
        if cursor + size < len(ids):
            result["next_cursor"] = cursor + size
        return envelope(
            {"errcode": 0, "result": result, "request_id": request_id()},
            page_rows(id_rows, cursor, size, req.draw),
        )

    def get(self, req: Request, body: dict) -> Response:
        record = self.sb.view(self.sub, "approvals").get(str(body.get("process_instance_id", "")))
        if record is None:
            return self.bad("process_instance_id")
        return self.ok({"process_instance": record})

    # ---- attendance -----------------------------------------------------------------

    def attendance(self, req: Request, body: dict) -> Response:
        try:
            first = parse_iso(str(body.get("workDateFrom", "")))
            last = parse_iso(str(body.get("workDateTo", "")))
        except ValueError:
            return self.bad("workDateFrom/workDateTo")
        lo = day_start(_date(first))
        hi = day_start(_date(last)) + DAY
        if hi - lo > 8 * DAY or hi <= lo:
            return self.bad("workDateFrom和workDateTo的间隔不能超过7天")
        users = body.get("userIdList") or []
        if not isinstance(users, list) or not 1 <= len(users) <= 50:
            return self.bad("userIdList最多50个")
        limit = to_int(body.get("limit"), 50)
        if not 1 <= limit <= 50:
            return self.bad("limit最大为50")
        wanted = frozenset(users)
        rows = self._cached(
            ("attendance", lo, hi, wanted, self.sb.version),
            lambda: self.sb.rows(self.sub, "attendance", lo, hi).filter(
                lambda r: r.get("userId") in wanted
            ),
        )
        offset = to_int(body.get("offset"), 0)
        return envelope(
            {
                "errcode": 0,
                "errmsg": "ok",
                "recordresult": ROWS,
                "hasMore": offset + limit < len(rows),
                "request_id": request_id(),
            },
            page_rows(rows, offset, limit, req.draw),
        )

    def _cached(self, key, build):
        value = self._cache.get(key)
        if value is None:
            if len(self._cache) > 256:
                self._cache.clear()
            value = self._cache[key] = build()
        return value


def _date(ts: int) -> dt.date:
    return dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + (ts + 8 * 3600) // DAY)
