"""A small 正方 (ZFSoft jwglxt) grade query, as the system answers it in the wild.

正方 publishes no API docs; this follows what its web pages do, as the many open-source
clients of jwglxt document it:

- `POST /jwglxt/xtgl/login_slogin.html` with the form `yhm` (user) and `mm` (password) answers
  302 to `/jwglxt/xtgl/index_initMenu.html` and sets the `JSESSIONID` cookie; a wrong password
  answers 200 with the HTML login page again. (The real page RSA-encrypts `mm` with a key from
  `login_getPublicKey.html`; a data-interface account of the college is assumed not to.)
- `POST /jwglxt/cjcx/cjcx_cxDgXscj.html?doType=query&gnmkdm=N305005` with the form `xnm`
  (academic year, "2025" = 2025–2026), `xqm` (term: "3" first, "12" second, "" both),
  `queryModel.showCount`, `queryModel.currentPage` answers JSON: `items` (every value a
  string), `currentPage`, `showCount`, `totalCount`, `totalPage`.
- Without a live session every page answers 302 to the login page.

`expire_every` drops every session after that many requests (sessions time out after 30
minutes of idleness on a real server).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

COURSES = [("A0101", "高等数学", "4.0"), ("B0203", "大学英语", "3.0"),
           ("C1105", "机械制图", "2.5"), ("D2001", "形势与政策", "1.0")]  # fmt: skip
TERMS = ("3", "12")
LOGIN = "/jwglxt/xtgl/login_slogin.html"
GRADES = "/jwglxt/cjcx/cjcx_cxDgXscj.html"


@dataclass
class ZhengfangFake:
    user: str = "sjzx_jk"
    password: str = "fake-password"
    students: int = 17
    years: tuple[str, ...] = ("2024", "2025")
    expire_every: int = 0
    sessions: set[str] = field(default_factory=set)
    logins: int = 0
    requests: int = 0
    grades: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for y, year in enumerate(self.years):
            for t, term in enumerate(TERMS):
                for s in range(self.students):
                    for c, (kch, kcmc, xf) in enumerate(COURSES):
                        score = 55 + (s * 7 + c * 11 + t * 5 + y * 3) % 45
                        xh = f"20{24 + y - 1}1010{s + 1:04d}"
                        self.grades.append({
                            "xh": xh, "xm": f"学生{s + 1}", "kch": kch, "kcmc": kcmc,
                            "jxb_id": f"{year}{term.zfill(2)}{kch}{s % 2 + 1:02d}",
                            "cj": str(score), "jd": f"{max(score - 50, 0) / 10:.2f}", "xf": xf,
                            "ksxz": "正常考试", "ksxzdm": "01", "kcxzmc": "必修课",
                            "xnm": year, "xqm": term, "xnmmc": f"{year}-{int(year) + 1}",
                            "xqmmc": str(t + 1),
                        })  # fmt: skip

    def truth(self) -> set[str]:
        return {f"{g['xh']}|{g['jxb_id']}|{g['ksxzdm']}" for g in self.grades}

    def query(self, xnm: str, xqm: str, page: int, size: int) -> dict:
        rows = [g for g in self.grades if g["xnm"] == xnm and xqm in ("", g["xqm"])]
        rows.sort(key=lambda g: (g["xqm"], g["xh"], g["kch"]))
        items = rows[(page - 1) * size : page * size]
        return {
            "currentPage": page, "showCount": size, "totalCount": len(rows),
            "totalPage": -(-len(rows) // size), "items": items, "sortName": " ",
            "sortOrder": " ", "entityOrField": False, "limit": size,
        }  # fmt: skip

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        """Start serving on a free loopback port: (server, base URL). Call server.shutdown()."""

        class Handler(_Handler):
            pass

        Handler.fake = self
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, name="zhengfang-fake", daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    fake: ZhengfangFake

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str, headers: dict | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _to_login(self) -> None:
        self._send(302, b"", "text/html;charset=utf-8", {"Location": LOGIN})

    def do_POST(self) -> None:
        fake = self.fake
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode(), True).items()}
        with fake.lock:
            fake.requests += 1
            if fake.expire_every and fake.requests % fake.expire_every == 0:
                fake.sessions.clear()
        if url.path == LOGIN:
            if (form.get("yhm"), form.get("mm")) != (fake.user, fake.password):
                page = "<html><head><title>用户登录</title></head><body><p id='tips'>用户名或密码不正确，请重新输入！</p></body></html>"  # noqa: E501
                return self._send(200, page.encode(), "text/html;charset=utf-8")
            session = uuid.uuid4().hex.upper()
            with fake.lock:
                fake.sessions.add(session)
                fake.logins += 1
            cookie = f"JSESSIONID={session}; Path=/jwglxt; HttpOnly"
            return self._send(
                302, b"", "text/html;charset=utf-8",
                {"Location": "/jwglxt/xtgl/index_initMenu.html", "Set-Cookie": cookie},
            )  # fmt: skip
        cookie = self.headers.get("Cookie", "")
        session = dict(p.strip().split("=", 1) for p in cookie.split(";") if "=" in p)
        if session.get("JSESSIONID") not in fake.sessions:
            return self._to_login()
        if url.path == GRADES and parse_qs(url.query).get("doType") == ["query"]:
            page = int(form.get("queryModel.currentPage", 1))
            size = int(form.get("queryModel.showCount", 15))
            body = fake.query(form.get("xnm", ""), form.get("xqm", ""), page, size)
            data = json.dumps(body, ensure_ascii=False).encode()
            return self._send(200, data, "application/json;charset=utf-8")
        return self._send(404, b"<html><title>404</title></html>", "text/html;charset=utf-8")
