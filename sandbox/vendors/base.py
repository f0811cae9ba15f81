"""What every vendor API does the same way: routing, auth check, request-level faults."""

from __future__ import annotations

from ..timefmt import parse
from ..web import (
    MAINTENANCE,
    Request,
    Response,
    Tokens,
    html,
    reply,
    server_error,
    timeout,
    too_many,
)


class Api:
    """One subsystem's HTTP API. Subclasses supply auth, envelopes and paging."""

    tokens: Tokens

    def __init__(self, sandbox, subsystem: str):
        self.sb = sandbox
        self.sub = subsystem
        self.domain = sandbox.domains[subsystem]
        self.by_path = {spec.path: spec for spec in self.domain.specs}
        self.public: dict = {}  # path -> handler needing no token (login endpoints)

    # ---- subclass hooks -------------------------------------------------------------

    def token_of(self, req: Request) -> str:
        return req.bearer()

    def expired(self, req: Request) -> Response:
        raise NotImplementedError

    def unknown_token(self, req: Request) -> Response:
        return self.expired(req)

    def rate_limited(self, req: Request) -> Response:
        return too_many(self.sb.faults.rates["retry_after_seconds"])

    def not_found(self, req: Request) -> Response:
        return html("<html><body><h1>404 Not Found</h1></body></html>", 404)

    def serve(self, req: Request, spec) -> Response:
        raise NotImplementedError

    # ---- shared flow ----------------------------------------------------------------

    def credentials_ok(self, key: str | None, secret: str | None) -> bool:
        return (key, secret) == self.sb.credentials(self.sub)

    def handle(self, req: Request) -> Response:
        if req.path in self.public:
            return self.public[req.path](req)
        spec = self.by_path.get(req.path)
        if spec is None and req.path not in self.extra_paths():
            return self.not_found(req)
        if self.sb.is_late(self.sub):  # the system has not submitted its data: nothing to serve
            until = self.sb.late["until"]
            msg = f"数据尚未报送（报送截止日期已过，预计 {until} 前补报）"
            return reply({"code": 503, "msg": msg}, 503)
        token = self.token_of(req)
        state = self.tokens.check(token) if token else "unknown"
        if state != "ok":
            return self.expired(req) if state == "expired" else self.unknown_token(req)
        req.draw = self.sb.faults.draw()
        return self.fault_response(req, token) or self.serve(req, spec)

    def fault_response(self, req: Request, token: str) -> Response | None:
        """The response a request-level fault replaces the real one with, if one fired."""
        fault = req.draw.replace
        if fault == "http_5xx":
            return server_error(req)
        if fault == "timeout":
            return timeout(self.sb.faults.rates["timeout_seconds"])
        if fault == "html_maintenance":
            return html(MAINTENANCE)
        if fault == "rate_limit":
            return self.rate_limited(req)
        if fault == "token_expiry":
            self.tokens.expire(token)
            return self.expired(req)
        return None

    def extra_paths(self) -> set[str]:
        """Data paths that are not a resource's own path (DingTalk's listids)."""
        return set()

    def window(self, params: dict, since: str, until: str, style: str) -> tuple:
        """(lo, hi) epoch seconds from the window params; ValueError if malformed."""
        return parse(params.get(since), style), parse(params.get(until), style)

    def filters(self, spec, params: dict) -> tuple:
        return tuple((name, params[name]) for name in spec.filters if params.get(name))
