"""A minimal reference client for every sandbox subsystem: log in, page, return records.

It speaks each vendor's convention as API.md describes it and keeps no state between pulls.
The tests use it to check that paging the API gives exactly the ground truth, and the
benchmark to measure serving throughput. The platform's real connectors live in connectors/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time

import requests

DAY_MS = 86_400_000


def key_of(record: dict, primary_key: list[str]):
    values = tuple(record.get(f) for f in primary_key)
    return values[0] if len(values) == 1 else values


class Client:
    def __init__(self, base: str, catalog: dict, credentials, start: str, now: dt.datetime):
        self.base = base
        self.catalog = catalog
        self.credentials = credentials  # subsystem -> (key, secret)
        self.start = dt.datetime.fromisoformat(start).replace(tzinfo=now.tzinfo)
        self.now = now
        self.http = requests.Session()
        self.tokens: dict[str, str] = {}

    # ---- auth -----------------------------------------------------------------------

    def login(self, sub: str) -> str:
        key, secret = self.credentials(sub)
        b, h = self.base, self.http
        if sub == "academic":
            h.post(f"{b}/academic/xtgl/login_slogin.html", data={"yhm": key, "mm": secret})
            token = "cookie"
        elif sub in ("research", "admissions"):
            body = {"appKey": key, "appSecret": secret}
            token = h.post(f"{b}/{sub}/api/auth/token", json=body).json()["data"]["accessToken"]
        elif sub == "assets":
            form = {"grant_type": "client_credentials", "client_id": key, "client_secret": secret}
            token = h.post(f"{b}/assets/oauth/token", data=form).json()["access_token"]
        elif sub == "finance":
            params = {"appKey": key, "appSecret": secret}
            token = h.get(f"{b}/finance/api/token", params=params).json()["data"]["accessToken"]
        elif sub == "oa":
            token = h.post(
                f"{b}/oa/api/v1/auth/login", json={"appId": key, "secret": secret}
            ).json()["token"]
        elif sub == "dingtalk":
            params = {"appkey": key, "appsecret": secret}
            token = h.get(f"{b}/dingtalk/gettoken", params=params).json()["access_token"]
        elif sub == "campus_card":
            body = {"SysCode": key, "SysPwd": secret}
            token = h.post(f"{b}/campus_card/api/TA_Login", json=body).json()["Token"]
        elif sub == "online_teaching":
            token = "signature"
        else:
            body = {"username": key, "password": secret}
            token = h.post(f"{b}/{sub}/login", json=body).json()["token"]
        self.tokens[sub] = token
        return token

    def token(self, sub: str) -> str:
        return self.tokens.get(sub) or self.login(sub)

    def signed(self, params: dict) -> dict:
        key, secret = self.credentials("online_teaching")
        nonce, stamp = secrets.token_hex(8), str(int(time.time() * 1000))
        signature = hashlib.sha1(f"{secret}{nonce}{stamp}".encode()).hexdigest()
        return {**params, "appKey": key, "nonce": nonce, "timestamp": stamp, "signature": signature}

    # ---- one page -------------------------------------------------------------------

    def get_page(
        self, sub: str, resource: str, page: int, size: int, window: dict
    ) -> requests.Response:
        """One raw page request (used by the fault tests as well)."""
        path = self.base + self.catalog[sub]["resources"][resource]["path"]
        token, h = self.token(sub), self.http
        if sub == "academic":
            form = {"queryModel.showCount": size, "queryModel.currentPage": page, **window}
            return h.post(path + "?doType=query", data=form)
        if sub in ("research", "admissions"):
            params = {"current": page, "size": size, **window}
            return h.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        if sub == "finance":
            params = {"pageNo": page, "pageSize": size, **window}
            return h.get(path, params=params, headers={"X-Access-Token": token})
        if sub == "campus_card":
            params = {"Token": token, "PageNo": page, "PageSize": size, **window}
            return h.get(path, params=params)
        if sub == "online_teaching":
            return h.get(path, params=self.signed({"pageIndex": page, "pageSize": size, **window}))
        params = {"pageNum": page, "pageSize": size, **window}
        return h.get(path, params=params, headers={"Authorization": f"Bearer {token}"})

    # ---- full pulls -----------------------------------------------------------------

    def pull(self, sub: str, resource: str, window: dict | None = None) -> dict:
        """Every record of a resource (or of a window given in the vendor's own params)."""
        pk = self.catalog[sub]["resources"][resource]["primary_key"]
        if sub == "dingtalk":
            return getattr(self, f"_dingtalk_{resource}")()
        if sub in ("assets", "oa"):
            return {key_of(r, pk): r for r in self._keyset(sub, resource, window or {})}
        if sub == "campus_card" and resource == "transactions" and not window:
            out = {}
            for lo, hi in self._days(self.start, self.now, 31):
                out |= self.pull(
                    sub, resource, {"BeginTime": _compact(lo), "EndTime": _compact(hi)}
                )
            return out
        out, page = {}, 1
        size = {"finance": 200, "online_teaching": 300}.get(sub, 500)
        while True:
            rows, total = self._rows(sub, self.get_page(sub, resource, page, size, window or {}))
            out |= {key_of(r, pk): r for r in rows}
            if page * size >= total:
                return out
            page += 1

    @staticmethod
    def _rows(sub: str, response: requests.Response) -> tuple[list, int]:
        body = response.json()
        if sub == "academic":
            return body["items"], body["totalCount"]
        if sub in ("research", "admissions"):
            return body["data"]["records"], body["data"]["total"]
        if sub == "finance":
            return body["data"]["list"], body["data"]["totalCount"]
        if sub == "campus_card":
            return body["Rows"], body["RecNum"]
        if sub == "online_teaching":
            return body["data"]["list"], body["data"]["queryMeta"]["totalCount"]
        return body["rows"], body["total"]

    def _keyset(self, sub: str, resource: str, window: dict) -> list:
        path = self.base + self.catalog[sub]["resources"][resource]["path"]
        token = self.token(sub)
        out = []
        if sub == "assets":
            params = {"limit": 500, **window}
            while True:
                body = self.http.get(
                    path, params=params, headers={"Authorization": f"Bearer {token}"}
                ).json()
                out += body["data"]
                if not body["has_more"]:
                    return out
                params["cursor"] = body["next_cursor"]
        url, params = path, {"limit": 100, **window}
        while url:
            body = self.http.get(url, params=params, headers={"token": token}).json()
            out += body["records"]
            url, params = (self.base + body["next"], None) if body["next"] else (None, None)
        return out

    def dingtalk(self, path: str, body: dict) -> dict:
        params = {"access_token": self.token("dingtalk")}
        return self.http.post(f"{self.base}/dingtalk{path}", params=params, json=body).json()

    def _dingtalk_departments(self) -> dict:
        return {
            d["dept_id"]: d
            for d in self.dingtalk("/topapi/v2/department/listsub", {"dept_id": 1})["result"]
        }

    def _dingtalk_users(self) -> dict:
        out = {}
        for dept in self._dingtalk_departments():
            cursor = 0
            while cursor is not None:
                body = {"dept_id": dept, "cursor": cursor, "size": 100}
                result = self.dingtalk("/topapi/v2/user/list", body)["result"]
                out |= {u["userid"]: u for u in result["list"]}
                cursor = result.get("next_cursor")
        return out

    def _dingtalk_approvals(self) -> dict:
        codes = [
            p["process_code"]
            for p in self.dingtalk("/topapi/process/listbyuserid", {})["result"]["process_list"]
        ]
        out = {}
        now_ms = int(self.now.timestamp() * 1000)
        for code in codes:
            lo = now_ms - 360 * DAY_MS
            while lo < now_ms:
                hi = min(lo + 120 * DAY_MS, now_ms)
                cursor = 0
                while cursor is not None:
                    body = {
                        "process_code": code,
                        "start_time": lo,
                        "end_time": hi,
                        "size": 20,
                        "cursor": cursor,
                    }
                    result = self.dingtalk("/topapi/processinstance/listids", body)["result"]
                    for pid in result["list"]:
                        got = self.dingtalk(
                            "/topapi/processinstance/get", {"process_instance_id": pid}
                        )
                        out[pid] = got["process_instance"]
                    cursor = result.get("next_cursor")
                lo = hi
        return out

    def _dingtalk_attendance(self) -> dict:
        users = list(self._dingtalk_users())
        out = {}
        for first, last in self._days(self.start, self.now, 7):
            for n in range(0, len(users), 50):
                offset = 0
                while True:
                    body = {
                        "workDateFrom": f"{first:%Y-%m-%d} 00:00:00",
                        "workDateTo": f"{last - dt.timedelta(days=1):%Y-%m-%d} 00:00:00",
                        "userIdList": users[n : n + 50],
                        "offset": offset,
                        "limit": 50,
                    }
                    got = self.dingtalk("/attendance/list", body)
                    out |= {r["id"]: r for r in got["recordresult"]}
                    if not got["hasMore"]:
                        break
                    offset += 50
        return out

    @staticmethod
    def _days(lo: dt.datetime, hi: dt.datetime, step: int):
        while lo < hi:
            nxt = min(lo + dt.timedelta(days=step), hi)
            yield lo, nxt
            lo = nxt


def _compact(value: dt.datetime) -> str:
    return value.strftime("%Y%m%d%H%M%S")
