"""One class per `auth.type` of the YAML, on dlt's auth model.

An auth method says whether it logs in (`logs_in`), what token a login answer gives
(`token_from`), and how a request carries it (`apply`). The client does the login request
itself (with its retries and rate limit) and caches the token per app and process.

`check(config)` holds the rules of each type (which keys it needs), next to the code that uses
them; the `auth:` model of `include/registry.py` (the one validator: key names and value types)
calls it and turns a `ConfigProblem` into its one-line error.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any, ClassVar

from connectors.paginators import ConfigProblem
from connectors.spec import lookup


def render(template: Any, values: dict[str, str]) -> Any:
    """`{key}`, `{secret}`, `{token}` … filled into a string, mapping or list."""
    if isinstance(template, str):
        return template.format_map(values)
    if isinstance(template, dict):
        return {k: render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values) for v in template]
    return template


def _text(data: dict, key: str, where: str) -> None:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigProblem(
            f"{where}.{key}", "缺少或为空 (missing or empty)", f"添加 (add) `{key}:`"
        )


class NoAuth:
    """`none`: requests carry nothing."""

    type: ClassVar[str] = "none"
    logs_in: ClassVar[bool] = False

    def __init__(self, config: Any):
        self.config = config  # connectors.spec.Auth
        # tells apart two logins of one app in the token cache (DingTalk's old and v1.0 tokens)
        self.cache_key = json.dumps(
            [config.type, config.login, config.token_path], sort_keys=True, default=str
        )

    @classmethod
    def check(cls, data: dict) -> None:
        """`data` has `login`, `send` and `signature` as mappings (maybe empty)."""

    def token_from(self, body: Any, cookies: dict) -> Any:
        return None

    def apply(self, token: Any, values: dict, params: dict, headers: dict, cookies: dict) -> None:
        pass


class _LoginAuth(NoAuth):
    logs_in = True

    @classmethod
    def check(cls, data: dict) -> None:
        _text(data["login"], "path", ".login")


class TokenAuth(_LoginAuth):
    """`token`: a login answer holds a token, sent as a header or a query parameter."""

    type = "token"

    @classmethod
    def check(cls, data: dict) -> None:
        super().check(data)
        _text(data, "token_path", "")
        if not (data["send"].get("header") or data["send"].get("query")):
            raise ConfigProblem(
                ".send", "没有说明令牌放在哪里 (does not say where the token goes)",
                "添加 header: 或 query: (add header: or query:)",
            )  # fmt: skip

    def token_from(self, body: Any, cookies: dict) -> Any:
        found, token = lookup(body, self.config.token_path)
        if not found or not token:
            raise ValueError(
                f"登录应答中 `{self.config.token_path}` 处没有令牌，请核对 auth.token_path "
                f"(no token at `{self.config.token_path}` in the login answer)"
            )
        return token

    def apply(self, token: Any, values: dict, params: dict, headers: dict, cookies: dict) -> None:
        c = self.config
        value = c.send_value.format(token=token)
        if c.send_header:
            headers[c.send_header] = value
        if c.send_query:
            params[c.send_query] = value


class SessionAuth(_LoginAuth):
    """`session`: the login answer sets cookies (正方), sent with every request."""

    type = "session"

    def token_from(self, body: Any, cookies: dict) -> Any:
        return cookies

    def apply(self, token: Any, values: dict, params: dict, headers: dict, cookies: dict) -> None:
        cookies.update(token)


class SignatureAuth(NoAuth):
    """`signature`: every request signed afresh with a nonce and a timestamp (中国大学MOOC)."""

    type = "signature"

    @classmethod
    def check(cls, data: dict) -> None:
        _text(data["signature"], "param", ".signature")
        _text(data["signature"], "value", ".signature")
        if data["signature"].get("algorithm", "sha1") not in ("sha1", "sha256", "md5"):
            raise ConfigProblem(
                ".signature.algorithm", f"未知算法 (unknown '{data['signature']['algorithm']}')",
                "用 sha1、sha256 或 md5 (use sha1, sha256 or md5)",
            )  # fmt: skip

    def apply(self, token: Any, values: dict, params: dict, headers: dict, cookies: dict) -> None:
        c = self.config
        now_ms = str(int(time.time() * 1000))
        values = {**values, "nonce": uuid.uuid4().hex, "timestamp_ms": now_ms,
                  "timestamp": now_ms[:-3]}  # fmt: skip
        params.update(render(c.params, values))
        digest = hashlib.new(c.signature_algorithm)
        digest.update(c.signature_value.format_map(values).encode("utf-8"))
        params[c.signature_param] = digest.hexdigest()


AUTH_METHODS: dict[str, type[NoAuth]] = {
    cls.type: cls for cls in (NoAuth, TokenAuth, SessionAuth, SignatureAuth)
}


def check(data: dict) -> None:
    """The rules of an `auth:` mapping's type; its `login`, `send`, `signature` are mappings."""
    kind = data.get("type", NoAuth.type)
    if kind not in AUTH_METHODS:
        raise ConfigProblem(
            ".type", f"未知类型 (unknown type '{kind}')",
            f"用其中之一 (use one of {', '.join(AUTH_METHODS)})",
        )  # fmt: skip
    AUTH_METHODS[kind].check(data)


def auth_method(config: Any) -> NoAuth:
    """The auth method of a `connectors.spec.Auth`."""
    return AUTH_METHODS[config.type](config)
