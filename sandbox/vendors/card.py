"""校园一卡通 TA_-style: RetCode envelopes, PageNo/PageSize, YYYYMMDDHHMMSS windows."""

from __future__ import annotations

from ..timefmt import COMPACT, DAY
from ..web import ROWS, Request, Response, Tokens, envelope, page_rows, reply, to_int
from .base import Api

P = "/campus_card/api"


class CardApi(Api):
    def __init__(self, sandbox, subsystem):
        super().__init__(sandbox, subsystem)
        self.tokens = Tokens(3600)
        self.public = {f"{P}/TA_Login": self.login}

    def login(self, req: Request) -> Response:
        body = req.json
        if not self.credentials_ok(body.get("SysCode"), body.get("SysPwd")):
            return reply({"RetCode": "-1", "RetMsg": "系统代码或密码错误"})
        token, _ = self.tokens.issue()
        return reply({"RetCode": "0", "RetMsg": "成功", "Token": token, "ExpireSec": 3600})

    def token_of(self, req: Request) -> str:
        return req.query.get("Token", "")

    def expired(self, req: Request) -> Response:
        return reply({"RetCode": "-10", "RetMsg": "令牌失效，请重新登录"})

    def rate_limited(self, req: Request) -> Response:
        return reply({"RetCode": "-9", "RetMsg": "请求过于频繁，请稍后再试"})

    def serve(self, req: Request, spec) -> Response:
        q = req.query
        size = to_int(q.get("PageSize"), 100)
        if not 1 <= size <= 1000:
            return reply({"RetCode": "-2", "RetMsg": "PageSize超出范围"})
        try:
            lo, hi = self.window(q, "BeginTime", "EndTime", COMPACT)
        except ValueError:
            return reply({"RetCode": "-3", "RetMsg": "时间格式应为YYYYMMDDHHMMSS"})
        if spec.resource == "transactions":
            if lo is None or hi is None:
                return reply({"RetCode": "-3", "RetMsg": "BeginTime和EndTime不能为空"})
            if hi - lo > 31 * DAY:
                return reply({"RetCode": "-3", "RetMsg": "查询时间跨度不能超过31天"})
        rows = self.sb.rows(self.sub, spec.resource, lo, hi)
        page = max(to_int(q.get("PageNo"), 1), 1)
        body = page_rows(rows, (page - 1) * size, size, req.draw)
        return envelope(
            {
                "RetCode": "0",
                "RetMsg": "成功",
                "RecNum": len(rows),
                "PageNo": page,
                "PageSize": size,
                "Rows": ROWS,
            },
            body,
        )
