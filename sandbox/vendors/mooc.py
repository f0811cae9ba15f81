"""网络教学平台, 中国大学MOOC open-API style: SHA1 request signatures, pageIndex/pageSize."""

from __future__ import annotations

import collections
import hashlib
import math
import threading
import time

from ..timefmt import EPOCH_MS
from ..web import ROWS, Request, Response, envelope, page_rows, reply, to_int
from .base import Api

WINDOW_MS = 300_000
PER_MINUTE = 500


class MoocApi(Api):
    def __init__(self, sandbox, subsystem):
        super().__init__(sandbox, subsystem)
        self.seen: dict[tuple[str, str], float] = {}
        self.calls: collections.deque = collections.deque()
        self.lock = threading.Lock()

    def handle(self, req: Request) -> Response:
        spec = self.by_path.get(req.path)
        if spec is None:
            return reply({"code": 404, "message": "接口不存在"}, 404)
        problem = self._verify(req.query)
        if problem:
            return reply(
                {
                    "code": 1001 if problem != "rate" else 1002,
                    "message": {"rate": "请求过于频繁"}.get(problem, "签名校验失败"),
                }
            )
        req.draw = self.sb.faults.draw()
        if req.draw.replace == "token_expiry":  # no token here: the signature is refused instead
            return reply({"code": 1001, "message": "签名已过期"})
        return self.fault_response(req, "") or self.serve(req, spec)

    def rate_limited(self, req: Request) -> Response:
        return reply({"code": 1002, "message": "请求过于频繁"})

    def _verify(self, q: dict) -> str | None:
        key, secret = self.sb.credentials(self.sub)
        nonce, stamp = q.get("nonce", ""), q.get("timestamp", "")
        if q.get("appKey") != key or not nonce or not stamp.isdigit():
            return "sign"
        expected = hashlib.sha1(f"{secret}{nonce}{stamp}".encode()).hexdigest()
        if q.get("signature", "").lower() != expected:
            return "sign"
        now = time.time()
        with self.lock:
            if abs(now * 1000 - int(stamp)) > WINDOW_MS or (nonce, stamp) in self.seen:
                return "sign"
            self.seen[(nonce, stamp)] = now
            if len(self.seen) > 20000:  # forget pairs older than the timestamp window
                self.seen = {k: v for k, v in self.seen.items() if now - v < WINDOW_MS / 1000}
            self.calls.append(now)
            while self.calls and now - self.calls[0] > 60:
                self.calls.popleft()
            if len(self.calls) > PER_MINUTE:
                return "rate"
        return None

    def serve(self, req: Request, spec) -> Response:
        q = req.query
        size = to_int(q.get("pageSize"), 20)
        if not 5 <= size <= 300:
            return reply({"code": 1003, "message": "pageSize超出范围[5,300]"})
        try:
            lo, hi = self.window(q, "updateTimeFrom", "updateTimeTo", EPOCH_MS)
        except ValueError:
            return reply({"code": 1003, "message": "updateTimeFrom/updateTimeTo应为毫秒时间戳"})
        rows = self.sb.rows(self.sub, spec.resource, lo, hi)
        page = max(to_int(q.get("pageIndex"), 1), 1)
        body = page_rows(rows, (page - 1) * size, size, req.draw)
        meta = {
            "pageIndex": page,
            "pageSize": size,
            "totalCount": len(rows),
            "totalPageCount": math.ceil(len(rows) / size),
        }
        return envelope(
            {"code": 0, "message": "ok", "data": {"list": ROWS, "queryMeta": meta}}, body
        )
