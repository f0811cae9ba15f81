"""A small fake of DingTalk's v1.0 API (api.dingtalk.com), written from its public docs.

Only what a collector needs, with the documented shapes:

- `POST /v1.0/oauth2/accessToken` with JSON `{"appKey", "appSecret"}` answers
  `{"accessToken": "…", "expireIn": 7200}`; wrong keys answer HTTP 400
  `{"code": "invalidClientIdOrSecret", "message": "…", "requestid": "…"}`.
- Every other call carries the token in the header `x-acs-dingtalk-access-token`; a missing
  or unknown token answers HTTP 401 `{"code": "InvalidAuthentication", "message": "…"}`.
- `GET /v1.0/calendar/users/{userId}/calendars/{calendarId}/events` (查询日程列表) pages with
  `maxResults` (at most 100) and `nextToken`: each page is `{"events": [...], "nextToken":
  "…"}` and the last page has no `nextToken`. Events carry `id`, `summary`, `description`,
  `start`/`end` (`{"dateTime", "timeZone"}`), `isAllDay`, `organizer`, `status`,
  `createTime`, `updateTime` (ISO 8601 with offset).

`serve(events)` starts it on a free loopback port in a thread: `with serve(...) as fake:` gives
`fake.base`, `fake.requests` (method, path, query, headers of every call) and the app
credentials `fake.key` / `fake.secret`.
"""

from __future__ import annotations

import json
import secrets
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

EVENTS_PATH = "/v1.0/calendar/users/{user}/calendars/{calendar}/events"


def sample_events(n: int = 7) -> list[dict]:
    """Events as the docs show them (times with the +08:00 offset)."""
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


class _Fake:
    def __init__(self, events: list[dict]):
        self.events = events
        self.key, self.secret = "dingv1-app-key", "dingv1-app-secret"
        self.tokens: set[str] = set()
        self.requests: list[dict] = []
        self.base = ""


def _handler(fake: _Fake):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, code: str, message: str) -> None:
            self._answer(status, {"code": code, "message": message, "requestid": "fake"})

        def _record(self) -> tuple[str, dict]:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            fake.requests.append(
                {"method": self.command, "path": url.path, "query": query,
                 "headers": dict(self.headers)}
            )  # fmt: skip
            return url.path, query

        def do_POST(self):
            path, _ = self._record()
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return self._error(400, "InvalidParameter", "请求体不是 JSON")
            if path != "/v1.0/oauth2/accessToken":
                return self._error(404, "NotFound", "api not found")
            if (body.get("appKey"), body.get("appSecret")) != (fake.key, fake.secret):
                return self._error(400, "invalidClientIdOrSecret", "无效的appKey或appSecret")
            token = secrets.token_hex(16)
            fake.tokens.add(token)
            return self._answer(200, {"accessToken": token, "expireIn": 7200})

        def do_GET(self):
            path, query = self._record()
            if self.headers.get("x-acs-dingtalk-access-token") not in fake.tokens:
                return self._error(401, "InvalidAuthentication", "不合法的access_token")
            parts = path.split("/")
            shape = EVENTS_PATH.split("/")
            if len(parts) != len(shape) or any(
                a != b for a, b in zip(parts, shape, strict=True) if not b.startswith("{")
            ):
                return self._error(404, "NotFound", "api not found")
            try:
                size = int(query.get("maxResults", 100))
                start = int(query.get("nextToken") or 0)
            except ValueError:
                return self._error(400, "InvalidParameter", "maxResults/nextToken 不合法")
            if not 1 <= size <= 100:
                return self._error(400, "InvalidParameter.MaxResults", "maxResults 取值 1-100")
            page = fake.events[start : start + size]
            body: dict = {"events": page}
            if start + size < len(fake.events):
                body["nextToken"] = str(start + size)
            return self._answer(200, body)

    return Handler


@contextmanager
def serve(events: list[dict] | None = None):
    fake = _Fake(sample_events() if events is None else events)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
