"""DingTalk work notifications (工作通知, `topapi/message/corpconversation/asyncsend_v2`).

A task or reminder also goes to the person's DingTalk when departments.yml gives them a
userid (`dingtalk:`). The app's credentials are the DingTalk subsystem's connection
(`xiaoben_dingtalk`: host = API base, login = appkey, password = appsecret; `agent_id` in its
extra, default 1). A notice that cannot be sent is logged; mail has already gone.
"""

from __future__ import annotations

import logging

import requests

log = logging.getLogger(__name__)
CONN_ID = "xiaoben_dingtalk"


def work_notice(userids: list[str], text: str, conn_id: str = CONN_ID) -> int | None:
    """Send one text work notice; returns DingTalk's task_id, or None when it was not sent."""
    if not userids:
        return None
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
        base = (conn.host or "").rstrip("/")
        key = {"appkey": conn.login, "appsecret": conn.password}
        token = requests.get(f"{base}/gettoken", params=key, timeout=10).json()
        body = {
            "agent_id": (conn.extra_dejson or {}).get("agent_id", 1),
            "userid_list": ",".join(userids),
            "msg": {"msgtype": "text", "text": {"content": text}},
        }
        url = f"{base}/topapi/message/corpconversation/asyncsend_v2"
        auth = {"access_token": token["access_token"]}
        r = requests.post(url, json=body, params=auth, timeout=10).json()
        if r.get("errcode") != 0:
            raise RuntimeError(f"errcode {r.get('errcode')}: {r.get('errmsg')}")
        return r.get("task_id")
    except Exception as exc:
        log.warning("钉钉工作通知未发出 (work notice not sent) %s: %s", userids, exc)
        return None
