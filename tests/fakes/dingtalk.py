"""A small DingTalk, written from the vendor's public API docs (not from the campus sandbox).

Both API generations of one app, on one real HTTP server (http.server in a thread):

- the old OAPI (oapi.dingtalk.com): `GET /gettoken?appkey&appsecret` → `access_token`, sent
  as the `access_token` query parameter; every answer is HTTP 200 with `errcode`/`errmsg`
  (0 = success, 40014 = invalid token, 88/90018 = throttled);
  `POST /topapi/processinstance/listids` {process_code, start_time, end_time (epoch ms),
  cursor, size ≤ 20} → `result.list` of ids and `result.next_cursor` (absent on the last
  page); `POST /topapi/processinstance/get` {process_instance_id} → `process_instance`;
- the v1.0 API (api.dingtalk.com): `POST /v1.0/oauth2/accessToken` {appKey, appSecret} →
  `accessToken`, sent in the `x-acs-dingtalk-access-token` header; errors are HTTP 4xx with
  `code`/`message` (401 InvalidAuthentication for a stale token, 400 for bad parameters);
  `POST /v1.0/workflow/processes/instanceIds/query` {processCode, startTime, endTime,
  nextToken, maxResults ≤ 20} → `result.list` and `result.nextToken` (absent at the end);
  `GET /v1.0/workflow/processInstances?processInstanceId=` → `result`;
  `GET /v1.0/calendar/users/{userId}/calendars/{calendarId}/events` (查询日程列表) pages with
  `maxResults` (1-100) and `nextToken` → `{"events": [...], "nextToken"}` (no `nextToken` on
  the last page); events carry `id`, `summary`, `description`, `start`/`end` (`{"dateTime",
  "timeZone"}`), `isAllDay`, `organizer`, `status`, `createTime`, `updateTime` (ISO 8601 with
  offset).

An app is configured with its approval process codes: there is no call listing templates.
Tokens are the same for both generations in the real service; here each generation issues
its own, so a test can tell which login a request used. `expire()` invalidates every token
(DingTalk tokens last 7,200 s), `expire_every` does so every n requests, and `requests`
records what each request carried. `with DingTalkFake().running() as fake:` serves it for a
block (`fake.base`).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
PROCESS_CODES = ("PROC-LEAVE-0001", "PROC-PURCHASE-0002")
STATUSES = ("RUNNING", "COMPLETED", "TERMINATED")
EVENTS_PATH = re.compile(r"^/v1\.0/calendar/users/[^/]+/calendars/[^/]+/events$")


def sample_events(n: int = 7) -> list[dict]:
    """Calendar events as the v1.0 docs show them (times with the +08:00 offset)."""
    return [
        {
            "id": f"evt{i:04d}",
            "summary": f"第{i}次教学工作例会",
            "description": "讨论本周教学运行情况",
            "start": {
                "dateTime": f"2026-09-{i + 1:02d}T09:00:00+08:00",
                "timeZone": "Asia/Shanghai",
            },
            "end": {"dateTime": f"2026-09-{i + 1:02d}T10:00:00+08:00", "timeZone": "Asia/Shanghai"},
            "isAllDay": False,
            "organizer": {"id": "union001", "displayName": "王老师", "self": True},
            "status": "confirmed" if i % 3 else "cancelled",
            "createTime": f"2026-08-{i + 1:02d}T08:00:00+08:00",
            "updateTime": f"2026-08-{i + 1:02d}T08:30:00+08:00",
        }
        for i in range(n)
    ]


@dataclass
class Instance:
    id: str
    process_code: str
    title: str
    created: datetime
    status: str
    originator: str

    @property
    def created_ms(self) -> int:
        return int(self.created.timestamp() * 1000)

    def oapi(self) -> dict:
        """The old API's `process_instance` (times as yyyy-MM-dd HH:mm:ss, Beijing time)."""
        return {
            "title": self.title,
            "create_time": self.created.strftime("%Y-%m-%d %H:%M:%S"),
            "originator_userid": self.originator,
            "status": self.status,
            "result": "agree" if self.status == "COMPLETED" else "",
            "business_id": self.id[-12:],
        }

    def v1(self) -> dict:
        """The v1.0 API's `result` (ISO 8601 times in UTC, camelCase)."""
        return {
            "title": self.title,
            "createTime": self.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ"),
            "originatorUserId": self.originator,
            "status": self.status,
            "result": "agree" if self.status == "COMPLETED" else "",
            "businessId": self.id[-12:],
        }


@dataclass
class DingTalkFake:
    app_key: str = "ding-fake-app"
    app_secret: str = "fake-secret"
    per_code: int = 47  # instances per process code: several pages of 20
    expire_every: int = 0  # invalidate every token after this many requests (0: never)
    instances: list[Instance] = field(default_factory=list)
    events: list[dict] = field(default_factory=sample_events)
    base: str = ""  # set while serving
    tokens: dict[str, str] = field(default_factory=dict)  # token → generation
    requests: list[dict] = field(default_factory=list)
    logins: dict[str, int] = field(default_factory=lambda: {"oapi": 0, "v1": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        start = datetime(2026, 9, 1, 8, 0, tzinfo=TZ)
        for c, code in enumerate(PROCESS_CODES):
            for i in range(self.per_code):
                self.instances.append(
                    Instance(
                        id=f"{uuid.UUID(int=c * 10_000 + i + 1)}",
                        process_code=code,
                        title=f"{'请假' if c == 0 else '采购'}申请 {i + 1}",
                        created=start + timedelta(hours=7 * i + c),
                        status=STATUSES[i % 3],
                        originator=f"user{i % 9:03d}",
                    )
                )

    def truth(self, codes=PROCESS_CODES) -> set[str]:
        return {i.id for i in self.instances if i.process_code in codes}

    def expire(self) -> None:
        with self.lock:
            self.tokens.clear()

    # -- token issue and check --------------------------------------------------------------
    def issue(self, generation: str, key: str, secret: str) -> str | None:
        if (key, secret) != (self.app_key, self.app_secret):
            return None
        token = uuid.uuid4().hex
        with self.lock:
            self.tokens[token] = generation
            self.logins[generation] += 1
        return token

    def valid(self, generation: str, token: str | None) -> bool:
        with self.lock:
            if self.expire_every and len(self.requests) % self.expire_every == 0:
                self.tokens.clear()  # expired mid-run
            return token is not None and self.tokens.get(token) == generation

    # -- listings ---------------------------------------------------------------------------
    def list_ids(self, code: str, start_ms: int, end_ms: int | None, offset: int, size: int):
        found = sorted(
            (i for i in self.instances if i.process_code == code and i.created_ms >= start_ms
             and (end_ms is None or i.created_ms <= end_ms)),
            key=lambda i: (i.created_ms, i.id),
        )  # fmt: skip
        page = found[offset : offset + size]
        more = offset + size < len(found)
        return [i.id for i in page], (offset + size if more else None)

    def get(self, instance_id: str) -> Instance | None:
        return next((i for i in self.instances if i.id == instance_id), None)

    # -- serving ----------------------------------------------------------------------------
    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        """Start serving on a free loopback port: (server, base URL). Call server.shutdown()."""
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, name="dingtalk-fake", daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"

    @contextmanager
    def running(self):
        """Serve for a block: `with DingTalkFake().running() as fake:` (`fake.base`)."""
        server, self.base = self.serve()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


class _Handler(BaseHTTPRequestHandler):
    fake: DingTalkFake

    def log_message(self, *args) -> None:  # quiet
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return {}

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self._json() if method == "POST" else {}
        self.fake.requests.append(
            {"method": method, "path": url.path, "query": query, "body": body,
             "header_token": self.headers.get("x-acs-dingtalk-access-token")}
        )  # fmt: skip
        if url.path.startswith("/v1.0/"):
            self._v1(method, url.path, query, body)
        else:
            self._oapi(method, url.path, query, body)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    # -- the old OAPI: always HTTP 200, errcode/errmsg --------------------------------------
    def _oapi(self, method: str, path: str, query: dict, body: dict) -> None:
        fake = self.fake
        if path == "/gettoken" and method == "GET":
            token = fake.issue("oapi", query.get("appkey"), query.get("appsecret"))
            if token is None:
                return self._reply(200, {"errcode": 40089, "errmsg": "不合法的appKey或appSecret"})
            return self._reply(
                200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
            )
        if not fake.valid("oapi", query.get("access_token")):
            return self._reply(200, {"errcode": 40014, "errmsg": "不合法的access_token"})
        if path == "/topapi/processinstance/listids" and method == "POST":
            size = int(body.get("size", 10))
            if size > 20:
                return self._reply(200, {"errcode": 40035, "errmsg": "size参数不能大于20"})
            ids, nxt = fake.list_ids(
                body.get("process_code"), int(body.get("start_time", 0)),
                int(body["end_time"]) if body.get("end_time") else None,
                int(body.get("cursor", 0)), size,
            )  # fmt: skip
            result: dict[str, Any] = {"list": ids}
            if nxt is not None:
                result["next_cursor"] = nxt
            return self._reply(200, {"errcode": 0, "errmsg": "ok", "result": result})
        if path == "/topapi/processinstance/get" and method == "POST":
            inst = fake.get(body.get("process_instance_id", ""))
            if inst is None:
                return self._reply(200, {"errcode": 818002, "errmsg": "审批实例不存在"})
            return self._reply(200, {"errcode": 0, "errmsg": "ok", "process_instance": inst.oapi()})
        return self._reply(404, {"errcode": 404, "errmsg": "not found"})

    # -- the v1.0 API: HTTP status + code/message -------------------------------------------
    def _v1(self, method: str, path: str, query: dict, body: dict) -> None:
        fake = self.fake
        if path == "/v1.0/oauth2/accessToken" and method == "POST":
            token = fake.issue("v1", body.get("appKey"), body.get("appSecret"))
            if token is None:
                return self._reply(
                    400, {"code": "invalidClientIdOrSecret", "message": "无效的appKey或appSecret"}
                )
            return self._reply(200, {"accessToken": token, "expireIn": 7200})
        if not fake.valid("v1", self.headers.get("x-acs-dingtalk-access-token")):
            return self._reply(
                401, {"code": "InvalidAuthentication", "message": "不合法的access_token"}
            )
        if path == "/v1.0/workflow/processes/instanceIds/query" and method == "POST":
            size = int(body.get("maxResults", 20))
            if size > 20:
                return self._reply(
                    400, {"code": "invalidParameter", "message": "maxResults不能大于20"}
                )
            ids, nxt = fake.list_ids(
                body.get("processCode"), int(body.get("startTime", 0)),
                int(body["endTime"]) if body.get("endTime") else None,
                int(body.get("nextToken") or 0), size,
            )  # fmt: skip
            result: dict[str, Any] = {"list": ids}
            if nxt is not None:
                result["nextToken"] = str(nxt)
            return self._reply(200, {"success": True, "result": result})
        if path == "/v1.0/workflow/processInstances" and method == "GET":
            inst = fake.get(query.get("processInstanceId", ""))
            if inst is None:
                return self._reply(
                    400, {"code": "aflowProcessInstNotExist", "message": "审批实例不存在"}
                )
            return self._reply(200, {"success": True, "result": inst.v1()})
        if EVENTS_PATH.match(path) and method == "GET":
            return self._events(query)
        return self._reply(404, {"code": "NotFound", "message": "接口不存在"})

    def _events(self, query: dict) -> None:
        try:
            size = int(query.get("maxResults", 100))
            start = int(query.get("nextToken") or 0)
        except ValueError:
            size = start = 0  # refused below
        if not 1 <= size <= 100:
            return self._reply(
                400, {"code": "InvalidParameter.MaxResults", "message": "maxResults 取值 1-100"}
            )
        body: dict[str, Any] = {"events": self.fake.events[start : start + size]}
        if start + size < len(self.fake.events):
            body["nextToken"] = str(start + size)
        return self._reply(200, body)
