"""The sandbox over HTTP: 14 vendor APIs under /<subsystem>/ and the admin API under /_admin/.

Standard-library ``ThreadingHTTPServer`` with HTTP/1.1 keep-alive: no extra dependency, and
fast enough because pages are joined from each row's JSON, rendered once per row (card
transactions: rendered from their columns per page).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from .core import Sandbox
from .store import dumps
from .timefmt import bound
from .vendors.card import CardApi
from .vendors.dingtalk import DingTalkApi
from .vendors.mooc import MoocApi
from .vendors.rest import Assets, Finance, MybatisPlus, NextLink, RuoYi
from .vendors.zhengfang import Zhengfang
from .web import Request, Response, reply

API_CLASSES = {
    "academic": Zhengfang,
    "research": MybatisPlus,
    "assets": Assets,
    "finance": Finance,
    "oa": NextLink,
    "dingtalk": DingTalkApi,
    "admissions": MybatisPlus,
    "employment": RuoYi,
    "campus_card": CardApi,
    "major_development": RuoYi,
    "online_teaching": MoocApi,
    "teacher_development": RuoYi,
    "student_development": RuoYi,
    "decision": RuoYi,
}


class Admin:
    """Ground truth, the clock and the fault switches. No auth: loopback clients only."""

    def __init__(self, sandbox: Sandbox):
        self.sb = sandbox

    def handle(self, req: Request) -> Response:
        if not ipaddress.ip_address(req.client).is_loopback:
            return reply({"error": "管理接口仅允许本机访问"}, 403)
        parts = [unquote(p) for p in req.path.split("/")[2:]]
        try:
            return self.route(req, parts)
        except KeyError as exc:
            return reply({"error": str(exc.args[0])}, 404)
        except ValueError as exc:
            return reply({"error": str(exc)}, 400)

    def route(self, req: Request, parts: list[str]) -> Response:
        sb = self.sb
        match parts:
            case ["health"]:
                return reply(sb.health())
            case ["catalog"]:
                return reply(sb.catalog())
            case ["noise"]:
                return reply({"count": len(sb.noise()), "items": sb.noise()})
            case ["truth", subsystem, resource]:
                return self.truth(req, subsystem, resource)
            case ["defects", subsystem, resource]:
                items = sb.defects(subsystem, resource)
                return Response(
                    200, dumps({"count": len(items), "items": [_jsonable(d) for d in items]})
                )
            case ["clock", "advance"] if req.method == "POST":
                sb.advance(int(req.json.get("days", 0)))
                return reply(sb.health())
            case ["clock", "backup"] if req.method == "POST":
                return reply(sb.backup())
            case ["clock", "restore"] if req.method == "POST":
                return reply(sb.restore())
            case ["late"]:
                if req.method == "POST":
                    body = req.json
                    return reply(sb.set_late(body.get("subsystem"), int(body.get("days", 1))))
                return reply({"late": sb.late})
            case ["profile"]:
                c = sb.conflict
                twice = sb.view(c["subsystem"], c["resource"]).conflict if c else None
                return reply({"profile": sb.profile, "late": sb.late, "conflict": c,
                              "listed_twice": twice})  # fmt: skip
            case ["dingtalk", "messages"]:
                items = sb.__dict__.get("work_notices", [])
                return reply({"count": len(items), "items": items})
            case ["faults"]:
                if req.method == "POST":
                    return reply(sb.set_faults(req.json))
                return reply(dict(sb.faults.rates))
        raise KeyError(f"未知的管理接口: {req.path}")

    def truth(self, req: Request, subsystem: str, resource: str) -> Response:
        spec = self.sb.spec(subsystem, resource)
        rows = self.sb.rows(
            subsystem,
            resource,
            bound(req.query.get("since") or None),
            bound(req.query.get("until") or None),
        )
        head = dumps(
            {
                "subsystem": subsystem,
                "resource": resource,
                "primary_key": list(spec.key),
                "cursor_field": None if spec.full_refresh else spec.cursor,
                "now": self.sb.now.isoformat(),
                "count": len(rows),
                "items": "__ITEMS__",
            }
        )
        before, after = head.split(b'"__ITEMS__"')
        items = []
        for i, key in enumerate(rows.key_slice(0, len(rows))):
            items.append(
                b'{"key":' + dumps(_jsonable(key)) + b',"record":' + rows.json(i, i + 1) + b"}"
            )
        return Response(200, before + b"[" + b",".join(items) + b"]" + after)


def _jsonable(value):
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class Router:
    def __init__(self, sandbox: Sandbox):
        self.admin = Admin(sandbox)
        self.apis = {name: cls(sandbox, name) for name, cls in API_CLASSES.items()}

    def handle(self, req: Request) -> Response:
        head = req.path.split("/", 2)[1] if req.path.count("/") >= 1 else ""
        if head == "_admin":
            return self.admin.handle(req)
        api = self.apis.get(head)
        if api is None:
            return reply({"error": f"未知的子系统: {head}"}, 404)
        return api.handle(req)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CampusSandbox/1.0"
    router: Router

    def setup(self) -> None:
        super().setup()
        # headers and body go out as two writes; without this, Nagle + delayed ACK cost 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            self.command,
            split.path,
            dict(parse_qsl(split.query, keep_blank_values=True)),
            {k.lower(): v for k, v in self.headers.items()},
            body,
            self.client_address[0],
        )
        try:
            response = self.router.handle(req)
        except Exception as exc:  # an unexpected bug must not kill the connection silently
            response = reply({"error": f"{type(exc).__name__}: {exc}"}, 500)
        if response.delay:
            time.sleep(response.delay)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = _dispatch

    def log_message(self, format: str, *args) -> None:
        """Quiet by default: a benchmark would otherwise spend its time printing."""


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_server(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 8765) -> SandboxServer:
    handler = type("BoundHandler", (Handler,), {"router": Router(sandbox)})
    return SandboxServer((host, port), handler)


def serve(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until interrupted; prints one line once the port is listening."""
    server = make_server(sandbox, host, port)
    actual = server.server_address[1]
    print(
        f"sandbox ready http://{host}:{actual} seed={sandbox.seed} scale={sandbox.scale} "
        f"now={sandbox.now.isoformat()}",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
