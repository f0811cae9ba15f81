"""The REST families: MyBatis-Plus (research, admissions), RuoYi (five platforms), the finance
system, OAuth2 + keyset cursor (assets) and next-link paging (oa)."""

from __future__ import annotations

import math
import time
from urllib.parse import urlencode

from ..timefmt import DATETIME, ISO_LOCAL
from ..web import (
    ROWS,
    Request,
    Response,
    Tokens,
    decode_cursor,
    encode_cursor,
    envelope,
    page_rows,
    reply,
    to_int,
)
from .base import Api

ISO = "iso"  # any ISO-8601 / "yyyy-MM-dd HH:mm:ss" value; parse() handles both


class MybatisPlus(Api):
    def __init__(self, sandbox, subsystem):
        super().__init__(sandbox, subsystem)
        self.tokens = Tokens(3600)
        self.public = {f"/{subsystem}/api/auth/token": self.login}

    def login(self, req: Request) -> Response:
        body = req.json
        if not self.credentials_ok(body.get("appKey"), body.get("appSecret")):
            return reply({"code": 40100, "msg": "appKey或appSecret错误", "data": None}, 401)
        token, _ = self.tokens.issue()
        return reply(
            {
                "code": 0,
                "msg": "success",
                "data": {"accessToken": token, "tokenType": "Bearer", "expiresIn": 3600},
            }
        )

    def expired(self, req: Request) -> Response:
        return reply({"code": 40101, "msg": "token已过期", "data": None}, 401)

    def unknown_token(self, req: Request) -> Response:
        return reply({"code": 40100, "msg": "未认证或token无效", "data": None}, 401)

    def serve(self, req: Request, spec) -> Response:
        q = req.query
        try:
            lo, hi = self.window(q, "updatedSince", "updatedUntil", ISO)
        except ValueError:
            return reply({"code": 40000, "msg": "updatedSince格式错误", "data": None}, 400)
        rows = self.sb.rows(self.sub, spec.resource, lo, hi)
        size = min(max(to_int(q.get("size"), 10), 1), 500)
        current = max(to_int(q.get("current"), 1), 1)
        total = len(rows)
        body = page_rows(rows, (current - 1) * size, size, req.draw)
        return envelope(
            {
                "code": 0,
                "msg": "success",
                "data": {
                    "records": ROWS,
                    "total": total,
                    "size": size,
                    "current": current,
                    "pages": math.ceil(total / size),
                },
            },
            body,
        )


class RuoYi(Api):
    def __init__(self, sandbox, subsystem):
        super().__init__(sandbox, subsystem)
        self.tokens = Tokens(1800, sliding=True)
        self.public = {f"/{subsystem}/login": self.login}

    def login(self, req: Request) -> Response:
        body = req.json
        if not self.credentials_ok(body.get("username"), body.get("password")):
            return reply({"msg": "用户不存在/密码错误", "code": 500})
        token, _ = self.tokens.issue()
        return reply({"msg": "操作成功", "code": 200, "token": token})

    def expired(self, req: Request) -> Response:
        # RuoYi answers HTTP 200 and puts the 401 in the body
        return reply({"msg": f"请求访问：{req.path}，认证失败，无法访问系统资源", "code": 401})

    def serve(self, req: Request, spec) -> Response:
        q = req.query
        try:
            lo, hi = self.window(q, "params[beginUpdateTime]", "params[endUpdateTime]", DATETIME)
        except ValueError:
            return reply({"msg": "参数格式错误：params[beginUpdateTime]", "code": 500})
        rows = self.sb.rows(self.sub, spec.resource, lo, hi)
        size = min(max(to_int(q.get("pageSize"), 10), 1), 500)
        page = max(to_int(q.get("pageNum"), 1), 1)
        body = page_rows(rows, (page - 1) * size, size, req.draw)
        return envelope({"total": len(rows), "rows": ROWS, "code": 200, "msg": "查询成功"}, body)


class Finance(Api):
    def __init__(self, sandbox, subsystem):
        super().__init__(sandbox, subsystem)
        self.tokens = Tokens(7200, single=True)
        self.public = {"/finance/api/token": self.login}

    def login(self, req: Request) -> Response:
        q = req.query
        if not self.credentials_ok(q.get("appKey"), q.get("appSecret")):
            return reply({"code": "1001", "msg": "appKey或appSecret错误", "data": None})
        token, expiry = self.tokens.issue()
        expire = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(expiry + 8 * 3600))
        return reply(
            {"code": "0000", "msg": "成功", "data": {"accessToken": token, "expireTime": expire}}
        )

    def token_of(self, req: Request) -> str:
        return req.headers.get("x-access-token", "")

    def expired(self, req: Request) -> Response:
        return reply({"code": "1002", "msg": "令牌已失效", "data": None})

    def serve(self, req: Request, spec) -> Response:
        q = req.query
        size = to_int(q.get("pageSize"), 20)
        if not 1 <= size <= 200:
            return reply({"code": "1003", "msg": "参数错误：pageSize不能大于200", "data": None})
        try:
            lo, hi = self.window(q, "updateTimeBegin", "updateTimeEnd", DATETIME)
        except ValueError:
            return reply(
                {"code": "1003", "msg": "参数错误：时间格式应为yyyy-MM-dd HH:mm:ss", "data": None}
            )
        rows = self.sb.rows(self.sub, spec.resource, lo, hi)
        page = max(to_int(q.get("pageNo"), 1), 1)
        body = page_rows(rows, (page - 1) * size, size, req.draw)
        return envelope(
            {
                "code": "0000",
                "msg": "成功",
                "data": {
                    "pageNo": page,
                    "pageSize": size,
                    "totalCount": len(rows),
                    "totalPage": math.ceil(len(rows) / size),
                    "list": ROWS,
                },
            },
            body,
        )


class Keyset(Api):
    """Pages that continue after the last (cursor time, key) served: no offset drift."""

    def keyset_page(self, req: Request, spec, lo, hi, token: str | None, limit: int):
        view = self.sb.view(self.sub, spec.resource)
        i, j = view.bounds(lo, hi)
        start = i
        if token:
            ts, key = decode_cursor(token)
            start = max(i, view.after(ts, key))
        end = min(start + limit, j)
        body = view.rows.json(start, end)
        if req.draw.duplicates and start > i:  # the previous page's last record, again
            body = view.rows.json(start - 1, start) + (b"," + body if body else b"")
        nxt = encode_cursor(view.ts[end - 1], view.rows.keys[end - 1]) if end < j else None
        return body, nxt, end - start


class Assets(Keyset):
    def __init__(self, sandbox, subsystem):
        super().__init__(sandbox, subsystem)
        self.tokens = Tokens(1800)
        self.public = {"/assets/oauth/token": self.login}

    def login(self, req: Request) -> Response:
        form = req.form
        if form.get("grant_type") != "client_credentials":
            return reply({"error": "unsupported_grant_type"}, 400)
        if not self.credentials_ok(form.get("client_id"), form.get("client_secret")):
            return reply(
                {"error": "invalid_client", "error_description": "Bad client credentials"}, 401
            )
        token, _ = self.tokens.issue()
        return reply({"access_token": token, "token_type": "bearer", "expires_in": 1800})

    def expired(self, req: Request) -> Response:
        return reply(
            {"error": "invalid_token", "error_description": "Access token expired"},
            401,
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    def unknown_token(self, req: Request) -> Response:
        return reply(
            {"error": "unauthorized", "error_description": "Full authentication is required"},
            401,
            {"WWW-Authenticate": "Bearer"},
        )

    def serve(self, req: Request, spec) -> Response:
        q = req.query
        try:
            lo, hi = self.window(q, "updated_since", "updated_until", DATETIME)
            limit = min(max(to_int(q.get("limit"), 100), 1), 500)
            body, nxt, _ = self.keyset_page(req, spec, lo, hi, q.get("cursor"), limit)
        except ValueError:
            return reply(
                {"error": "invalid_request", "error_description": "bad cursor or time"}, 400
            )
        return envelope({"data": ROWS, "has_more": nxt is not None, "next_cursor": nxt}, body)


class NextLink(Keyset):
    def __init__(self, sandbox, subsystem):
        super().__init__(sandbox, subsystem)
        self.tokens = Tokens(3600)
        self.public = {"/oa/api/v1/auth/login": self.login}

    def login(self, req: Request) -> Response:
        body = req.json
        if not self.credentials_ok(body.get("appId"), body.get("secret")):
            return reply(
                {"status": "error", "code": "BAD_CREDENTIALS", "message": "应用ID或密钥错误"}, 401
            )
        token, expiry = self.tokens.issue()
        return reply({"token": token, "expire": int(expiry)})

    def token_of(self, req: Request) -> str:
        return req.headers.get("token", "")

    def expired(self, req: Request) -> Response:
        return reply(
            {"status": "error", "code": "TOKEN_EXPIRED", "message": "令牌已失效，请重新登录"}, 401
        )

    def serve(self, req: Request, spec) -> Response:
        q = req.query
        try:
            lo, hi = self.window(q, "modifiedFrom", "modifiedTo", ISO_LOCAL)
            limit = min(max(to_int(q.get("limit"), 50), 1), 100)
            body, token, count = self.keyset_page(req, spec, lo, hi, q.get("pageToken"), limit)
        except ValueError:
            return reply({"status": "error", "code": "BAD_REQUEST", "message": "参数格式错误"}, 400)
        nxt = None
        if token:
            nxt = f"{req.path}?{urlencode({**q, 'limit': limit, 'pageToken': token})}"
        return envelope({"records": ROWS, "count": count, "next": nxt}, body)
