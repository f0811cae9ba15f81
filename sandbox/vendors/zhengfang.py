"""正方 jwglxt style: session cookie, queryModel paging, items/totalCount/totalPage."""

from __future__ import annotations

import math

from ..timefmt import DATETIME
from ..web import ROWS, Request, Response, Tokens, envelope, html, page_rows, reply, to_int
from .base import Api

LOGIN = "/academic/xtgl/login_slogin.html"
LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>教学管理信息服务平台</title></head>"
    "<body><form id='loginForm' action='/academic/xtgl/login_slogin.html' method='post'>"
    "<h2>用户登录</h2><input name='yhm'/><input name='mm' type='password'/>"
    "<input name='yzm' placeholder='验证码'/></form></body></html>"
)


class Zhengfang(Api):
    def __init__(self, sandbox, subsystem):
        super().__init__(sandbox, subsystem)
        self.tokens = Tokens(1800)
        self.public = {LOGIN: self.login}

    def login(self, req: Request) -> Response:
        if req.method == "GET":
            return html(LOGIN_PAGE)
        form = req.form
        if not self.credentials_ok(form.get("yhm"), form.get("mm")):
            return reply({"flag": "0", "msg": "用户名或密码不正确"})
        session, _ = self.tokens.issue()
        cookie = f"JSESSIONID={session}; Path=/academic; HttpOnly"
        return reply({"flag": "1", "msg": "登录成功"}, headers={"Set-Cookie": cookie})

    def token_of(self, req: Request) -> str:
        return req.cookies.get("JSESSIONID", "")

    def expired(self, req: Request) -> Response:
        return Response(302, b"", "text/html;charset=UTF-8", {"Location": LOGIN})

    def serve(self, req: Request, spec) -> Response:
        params = req.params
        try:
            lo, hi = self.window(params, "gxsj_ks", "gxsj_js", DATETIME)
        except ValueError:
            return reply({"flag": "0", "msg": "查询参数格式不正确"})
        rows = self.sb.rows(self.sub, spec.resource, lo, hi, self.filters(spec, params))
        size = min(max(to_int(params.get("queryModel.showCount"), 15), 1), 1000)
        page = max(to_int(params.get("queryModel.currentPage"), 1), 1)
        total = len(rows)
        body = page_rows(rows, (page - 1) * size, size, req.draw)
        return envelope(
            {
                "items": ROWS,
                "currentPage": page,
                "showCount": size,
                "totalCount": total,
                "totalPage": math.ceil(total / size),
            },
            body,
        )
