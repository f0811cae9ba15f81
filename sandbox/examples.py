"""Regenerate the "Example request and response per subsystem" section of API.md.

    python -m sandbox examples          # rewrites the section in place

Runs a small sandbox (seed 2026, scale 300) on a free port, makes one real request per
subsystem with the reference client and writes request and (trimmed) response as Markdown.
Tokens, signatures and request ids are masked so the section only changes when the API does.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

from .client import Client
from .core import Sandbox
from .server import make_server

API_MD = Path(__file__).with_name("API.md")
BEGIN, END = "<!-- EXAMPLES:BEGIN -->", "<!-- EXAMPLES:END -->"
MASKS = {"access_token", "Token", "token", "signature", "nonce", "timestamp", "request_id", "uuid"}

# subsystem -> (resource, extra params in the vendor's own names)
WANTED = {
    "academic": ("students", {"gxsj_ks": "2026-09-01 00:00:00"}),
    "research": ("projects", {"updatedSince": "2026-01-01T00:00:00+08:00"}),
    "assets": ("assets", {"updated_since": "2026-09-01 00:00:00"}),
    "finance": ("expenditures", {"updateTimeBegin": "2026-09-01 00:00:00"}),
    "oa": ("documents", {"modifiedFrom": "2026-09-01T00:00:00"}),
    "admissions": ("enrolments", {"updatedSince": "2026-09-01 00:00:00"}),
    "employment": ("destinations", {"params[beginUpdateTime]": "2026-09-10 00:00:00"}),
    "campus_card": ("transactions", {"BeginTime": "20260910000000", "EndTime": "20260911000000"}),
    "major_development": ("control_points", {"params[beginUpdateTime]": "2026-09-01 00:00:00"}),
    "online_teaching": ("courses", {"updateTimeFrom": "1788192000000"}),
    "teacher_development": ("staff", {}),
    "student_development": ("questionnaires", {"params[beginUpdateTime]": "2026-09-01 00:00:00"}),
    "decision": ("base_data", {"params[beginUpdateTime]": "2026-09-01 00:00:00"}),
}


def _mask(value):
    if isinstance(value, dict):
        return {k: ("…" if k in MASKS else _mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value[:1]]  # one record is enough to show the shape
    return value


def _block(title: str, request: str, response, note: str = "") -> str:
    body = json.dumps(_mask(response), ensure_ascii=False, indent=2)
    return f"#### {title}\n\n{note}```http\n{request}\n```\n\n```json\n{body}\n```\n"


def generate() -> str:
    sandbox = Sandbox(seed=2026, scale=300)
    server = make_server(sandbox, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    client = Client(base, sandbox.catalog(), sandbox.credentials, "2026-09-01", sandbox.now)
    parts = []
    try:
        for subsystem, (resource, window) in WANTED.items():
            response = client.get_page(
                subsystem, resource, 1, 5 if subsystem == "online_teaching" else 1, window
            )
            request = response.request
            query = re.sub(r"(Token|nonce|timestamp|signature)=[^&]+", r"\1=…", request.path_url)
            line = f"{request.method} {query}"
            if request.body:
                body = request.body.decode() if isinstance(request.body, bytes) else request.body
                line += f"\n\n{body}"
            parts.append(_block(f"{subsystem} — {resource}", line, response.json()))
        parts.append(_dingtalk(client, base))
    finally:
        server.shutdown()
        server.server_close()
    return "\n".join(parts)


def _dingtalk(client: Client, base: str) -> str:
    now_ms = int(client.now.timestamp() * 1000)
    body = {
        "process_code": "PROC-QJ-2026",
        "start_time": now_ms - 7 * 86_400_000,
        "end_time": now_ms,
        "size": 20,
        "cursor": 0,
    }
    listed = client.dingtalk("/topapi/processinstance/listids", body)
    first = listed["result"]["list"][0]
    got = client.dingtalk("/topapi/processinstance/get", {"process_instance_id": first})
    req1 = f"POST /dingtalk/topapi/processinstance/listids?access_token=…\n\n{json.dumps(body)}"
    req2 = (
        f"POST /dingtalk/topapi/processinstance/get?access_token=…\n\n"
        f"{json.dumps({'process_instance_id': first})}"
    )
    return (
        _block("dingtalk — approvals (1) listids", req1, listed)
        + "\n"
        + _block("dingtalk — approvals (2) get", req2, got)
    )


def write() -> None:
    text = API_MD.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    API_MD.write_text(f"{head}{BEGIN}\n{generate()}\n{END}{tail}", encoding="utf-8")
