"""HTTP plumbing shared by the vendor APIs: requests, responses, tokens, paging, faults."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from .faults import Draw
from .store import Rows, dumps

ROWS = "__ROWS__"  # placeholder in an envelope, replaced by the pre-serialised rows


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    client: str = "127.0.0.1"
    draw: Draw = field(default_factory=Draw)

    @property
    def json(self) -> dict:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def form(self) -> dict[str, str]:
        if "json" in self.headers.get("content-type", ""):
            return {k: str(v) for k, v in self.json.items()}
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    @property
    def params(self) -> dict[str, str]:
        """Query string and form body together, as 正方-style endpoints accept both."""
        return {**self.query, **(self.form if self.method == "POST" else {})}

    @property
    def cookies(self) -> dict[str, str]:
        out = {}
        for part in self.headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name:
                out[name] = value
        return out

    def bearer(self) -> str:
        value = self.headers.get("authorization", "")
        return value[7:].strip() if value.lower().startswith("bearer ") else ""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (the timeout fault)


def reply(obj: object, status: int = 200, headers: dict | None = None) -> Response:
    return Response(status, dumps(obj), headers=headers or {})


def envelope(obj: object, rows: bytes, status: int = 200) -> Response:
    """``obj`` with its ``ROWS`` placeholder replaced by a JSON array of the rows."""
    body = dumps(obj).replace(f'"{ROWS}"'.encode(), b"[" + rows + b"]", 1)
    return Response(status, body)


def html(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), "text/html;charset=UTF-8")


MAINTENANCE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>系统维护</title></head><body>"
    "<h1>系统维护中</h1><p>尊敬的用户：系统正在升级维护，预计 30 分钟后恢复，"
    "给您带来不便敬请谅解。</p>"
    "</body></html>"
)


def nginx(status: int) -> Response:
    reason = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Temporarily Unavailable",
        504: "Gateway Time-out",
    }[status]
    return html(
        f"<html><head><title>{status} {reason}</title></head><body><center><h1>{status} "
        f"{reason}</h1></center><hr><center>nginx</center></body></html>",
        status,
    )


def server_error(req: Request) -> Response:
    """HTTP 500/502/503 in the shapes a Java backend or its nginx produce."""
    status = (500, 502, 503)[int(req.draw.variant * 3)]
    if status == 500:
        return reply(
            {
                "timestamp": int(time.time() * 1000),
                "status": 500,
                "error": "Internal Server Error",
                "path": req.path,
            },
            500,
        )
    return nginx(status)


def timeout(seconds: float) -> Response:
    response = nginx(504)
    response.delay = seconds + 1
    return response


def too_many(retry_after: float) -> Response:
    headers = {
        "Retry-After": str(int(retry_after) if retry_after == int(retry_after) else retry_after)
    }
    return reply({"code": 429, "msg": "请求过于频繁，请稍后再试"}, 429, headers)


class Tokens:
    """Issued tokens of one subsystem with wall-clock lifetimes."""

    def __init__(self, lifetime: float, single: bool = False, sliding: bool = False):
        self.lifetime = lifetime
        self.single = single  # issuing a new token revokes the others (csedu-style)
        self.sliding = sliding  # each use extends the token (RuoYi)
        self.issued: dict[str, float] = {}
        self.lock = threading.Lock()

    def issue(self, reuse: bool = False) -> tuple[str, float]:
        """A token and its expiry (epoch seconds); ``reuse`` returns a still-valid one."""
        now = time.time()
        with self.lock:
            if reuse:
                for token, expiry in self.issued.items():
                    if expiry > now:
                        self.issued[token] = now + self.lifetime  # DingTalk extends it
                        return token, now + self.lifetime
            if self.single:
                self.issued.clear()
            token = secrets.token_hex(16)
            self.issued[token] = now + self.lifetime
            return token, now + self.lifetime

    def check(self, token: str) -> str:
        """'ok', 'expired' (known but past its lifetime or revoked) or 'unknown'."""
        now = time.time()
        with self.lock:
            expiry = self.issued.get(token)
            if expiry is None:
                return "unknown"
            if expiry <= now:
                return "expired"
            if self.sliding:
                self.issued[token] = now + self.lifetime
            return "ok"

    def expire(self, token: str) -> None:
        with self.lock:
            if token in self.issued:
                self.issued[token] = 0.0


def page_rows(rows: Rows, offset: int, size: int, draw: Draw, drift: bool = True) -> bytes:
    """Rows ``offset..offset+size`` with the duplicates / page-drift faults applied."""
    if drift and draw.drift:
        offset = max(0, offset + draw.drift)
    body = rows.json(offset, offset + size)
    if draw.duplicates and len(rows):
        if offset > 0:  # the last record of the previous page, again
            body = rows.json(offset - 1, offset) + (b"," + body if body else b"")
        elif body:
            body += b"," + rows.json(0, 1)
    return body


def to_int(value: object, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def encode_cursor(ts: int, key: object) -> str:
    raw = json.dumps([ts, key], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[int, object]:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    ts, key = json.loads(raw)
    return int(ts), (tuple(key) if isinstance(key, list) else key)


def request_id() -> str:
    return uuid.uuid4().hex[:24]
