"""The one HTTP client every subsystem uses: auth, retries, throttling, pagination.

Everything vendor-specific comes from the `api:` section of the subsystem's YAML
(`connectors/spec.py`); this module only knows the general shapes:

- auth: one class per `auth.type` in `connectors/auth.py` (`token`, `session`, `signature`,
  `none`); the client does the login request and caches its token per app, login and process.
  A resource may speak its own `auth`/`responses` (DingTalk's old OAPI and v1.0 in one file);
- failures: connection errors, timeouts, HTTP 408/425/429/5xx and an HTML page answered with
  200 (a maintenance or login page) are retried with exponential backoff and jitter, honouring
  `Retry-After` and any wait the YAML points at in the body (DingTalk's gateway `wait`);
  the YAML's `responses.rules` map a vendor's status codes and error codes to `refresh` (log in
  again, then retry), `retry`, `fail` or `not_submitted` (the source has not submitted its data:
  the pull ends at once, no retries, with the vendor's message); a response that fails
  `responses.success` fails; an error is one line naming subsystem, resource, method and URL
  (without its query);
- faults of the link itself are `LinkError`s with a Chinese problem and fix for the task's one
  line (`connectors.dag_support`): `CredentialsRefused` (a login refused, HTTP 401/403, a
  token or signature still refused after fresh ones) and `CertificateError` (the HTTPS
  certificate fails verification: expired, untrusted, another host's) are permanent and raised
  at once; `Unreachable` (connection refused, DNS failure, timeout) after every attempt. A
  certificate is never skipped: a private CA is given in the connection (`Credentials.ca_bundle`);
- a per-subsystem rate limit (requests per second, shared by every client of the process);
- pagination: one class per `pagination.type` in `connectors/paginators.py` (`page_number`,
  `offset`, `cursor`, `next_link`, `single`); `Client.pages` gives it a `fetch`.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import math
import os
import random
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import msgspec
import requests

from connectors.auth import NoAuth, auth_method, render
from connectors.paginators import PagingError, Request, paginator
from connectors.spec import ApiSpec, Pagination, Resource, Responses, lookup

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_WAIT = 300.0  # DingTalk's longest block is 5 minutes
MAX_REFRESHES = 5


class ApiError(RuntimeError):
    """A request failed for good (not retryable, or still failing after every attempt)."""


class NotSubmitted(ApiError):
    """The source has not submitted this period's data yet (a deadline missed at the source).

    Not a fault of the link: retrying cannot help until the department submits, so the pull
    ends at once with the vendor's own words (`message`) and is recorded as a timeliness finding.
    """

    def __init__(self, where: str, message: str):
        super().__init__(f"{where} 数据尚未报送 (not yet submitted): {message}")
        self.message = message


class LinkError(ApiError):
    """The link to the source failed, not its data: the host, the problem and the fix in Chinese.

    `problem` reads after "<subsystem> 的 Airflow 连接 <id>"; `permanent`: retrying cannot help.
    """

    permanent = True

    def __init__(self, where: str, host: str, problem: str, fix: str):
        super().__init__(f"{where} {problem}")
        self.host, self.problem, self.fix = host, problem, fix


class CredentialsRefused(LinkError):
    """The source refused the connection's key/secret (or the account lacks the right)."""


class CertificateError(LinkError):
    """The source's HTTPS certificate failed verification."""


class Unreachable(LinkError):
    """No answer from the host after every attempt: transient, so the task retries too."""

    permanent = False


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.wait = reason, wait


class _Refresh(Exception):
    pass


@dataclass(frozen=True)
class _Call:
    """Who sends a request: its resource (named in errors), the auth and responses it speaks."""

    resource: str
    auth: NoAuth
    responses: Responses
    authed: bool = True  # False for the login request itself


@dataclass(frozen=True)
class Credentials:
    """Base URL and app key/secret of one subsystem, from its Airflow connection."""

    base_url: str
    key: str = ""
    secret: str = ""
    ca_bundle: str | None = None  # a private CA's certificate file (connection extra `ca_bundle`)


@dataclass
class Stats:
    requests: int = 0
    retries: Counter = field(default_factory=Counter)
    refreshes: int = 0
    logins: int = 0
    waited: float = 0.0

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "retries": dict(self.retries),
            "refreshes": self.refreshes,
            "logins": self.logins,
            "waited_seconds": round(self.waited, 2),
        }


class RateLimiter:
    """At most `rate` requests per second, spaced evenly; thread-safe."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self.next = 0.0
        self.lock = threading.Lock()

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> None:
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next)
            self.next = at + self.interval
        if at > now:
            sleep(at - now)


# Shared per process: one token per app (DingTalk rate-limits token requests; finance
# invalidates the old token when a new one is issued) and one rate limit per subsystem.
_TOKENS: dict[tuple, Any] = {}
_TOKEN_LOCK = threading.Lock()
_LIMITERS: dict[str, RateLimiter] = {}


def _limiter(subsystem: str, rate: float) -> RateLimiter:
    with _TOKEN_LOCK:
        lim = _LIMITERS.get(subsystem)
        if lim is None or abs(lim.interval - 1.0 / rate) > 1e-9:
            lim = _LIMITERS[subsystem] = RateLimiter(rate)
        return lim


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(when.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


class JsonDecoder:
    """JSON bodies to Python, and whether landing may re-encode them the fast way.

    Strict JSON is decoded by msgspec (about twice as fast as json). A body with a float whose
    Python form is in exponent notation (1e+16), or that only json accepts (NaN, lone
    surrogates), is marked not fast: landing then re-encodes its records with json itself, so
    the stored text and its hash are always exactly json.dumps'."""

    def __init__(self):
        self.plain = True
        self._decoder = msgspec.json.Decoder(float_hook=self._float)

    def _float(self, text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or "e" in repr(value):
            self.plain = False
        return value

    def decode(self, content: bytes) -> tuple[Any, bool]:
        self.plain = True
        try:
            return self._decoder.decode(content), self.plain
        except msgspec.DecodeError:
            return json.loads(content), False


def looks_like_html(resp: requests.Response) -> bool:
    """A page, not data: judged by the body, since some campus systems label JSON text/html."""
    head = resp.content[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return False
    return head.startswith(b"<") or "html" in resp.headers.get("Content-Type", "").lower()


class Client:
    """HTTP access to one subsystem as its YAML describes it."""

    def __init__(
        self,
        spec: ApiSpec,
        credentials: Credentials,
        *,
        session: requests.Session | None = None,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float | None = None,
        rate_limit: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """`backoff`, `timeout` and `rate_limit` override the YAML (tests, benchmarks)."""
        self.spec = spec
        self.creds = credentials
        self.base = credentials.base_url.rstrip("/") + "/"
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", "xiaoben-collector/1")
        # The environment (proxies honouring no_proxy, CA bundle) is read once for the base URL,
        # not on every request: requests' per-request lookups (netrc files among them) cost
        # more than decoding a 1,000-row page on a slow filesystem.
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base))
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if ca_bundle and self.base.startswith("https"):
            self.session.verify = ca_bundle
        if credentials.ca_bundle:
            self.session.verify = credentials.ca_bundle
        self.session.trust_env = False
        self.backoff, self.max_backoff = backoff, max_backoff
        self.timeout = timeout or spec.timeout
        self.sleep = sleep
        self.limiter = _limiter(spec.subsystem, rate_limit or spec.rate_limit)
        self.stats = Stats()
        self._rng = random.Random()
        secret = hashlib.sha256(credentials.secret.encode()).hexdigest()
        self._app = (spec.subsystem, self.base, credentials.key, secret)
        self._session_cookies: dict = {}
        self._calls: dict[str, _Call] = {}  # per resource name (the spec is fixed per client)
        self.strict = True  # whether landing may re-encode the last body the fast way
        self._json = JsonDecoder()

    def _call(self, resource: Resource | None) -> _Call:
        """The resource's own `auth`/`responses` where it has them, else the subsystem's."""
        name = resource.name if resource else ""
        call = self._calls.get(name)
        if call is None:
            auth = getattr(resource, "auth", None) or self.spec.auth
            responses = getattr(resource, "responses", None) or self.spec.responses
            call = self._calls[name] = _Call(name, auth_method(auth), responses)
        return call

    def _where(self, call: _Call, method: str, url: str) -> str:
        """`academic.students: GET http://…/api/x` (the URL without its query: no tokens)."""
        name = f"{self.spec.subsystem}.{call.resource}" if call.resource else self.spec.subsystem
        return f"{name}: {method} {url}"

    # -- auth -----------------------------------------------------------------------------
    def _values(self) -> dict[str, str]:
        return {"key": self.creds.key, "secret": self.creds.secret}

    def _token(self, call: _Call) -> Any:
        if not call.auth.logs_in:
            return None
        with _TOKEN_LOCK:
            token = _TOKENS.get((*self._app, call.auth.cache_key))
        return token if token is not None else self._login(call)

    def _login(self, call: _Call) -> Any:
        auth = call.auth.config
        login = render(auth.login or {}, self._values())
        method, url = str(login.get("method", "POST")).upper(), self._url(login["path"])
        body = self._send(
            method, url, params=login.get("params"), json_body=login.get("json"),
            form=login.get("form"), call=_Call(call.resource, call.auth, call.responses, False),
        )  # fmt: skip
        self.stats.logins += 1
        try:
            token = call.auth.token_from(body, self._session_cookies)
        except ValueError as exc:
            raise ApiError(f"{self._where(call, method, url)} {exc}") from None
        with _TOKEN_LOCK:
            _TOKENS[(*self._app, call.auth.cache_key)] = token
        return token

    def _invalidate(self, call: _Call, token: Any) -> None:
        key = (*self._app, call.auth.cache_key)
        with _TOKEN_LOCK:
            if token is not None and _TOKENS.get(key) == token:
                del _TOKENS[key]  # unless another client already logged in again

    # -- one request ----------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return urljoin(self.base, path.lstrip("/")) if not path.startswith("http") else path

    def _message(self, body: Any, call: _Call | None = None) -> str:
        path = (call.responses if call else self.spec.responses).message_path
        if path:
            found, msg = lookup(body, path)
            if found:
                return str(msg)
        return json.dumps(body, ensure_ascii=False)[:300] if body is not None else ""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        body_style: str = "query",
        resource: Resource | None = None,
    ) -> Any:
        """Send one logical request (retrying as needed); returns the parsed JSON body.

        `resource` names the resource in errors and brings its own `auth`/`responses`."""
        params, call, url = dict(params or {}), self._call(resource), self._url(path)
        if body_style == "query" or method == "GET":
            return self._send(method, url, params=params, call=call)
        if body_style == "form":
            return self._send(method, url, form=params, call=call)
        return self._send(method, url, json_body=params, call=call)

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        form: dict | None = None,
        call: _Call | None = None,
    ) -> Any:
        call = call or self._call(None)
        attempt = refreshes = 0
        while True:
            token = self._token(call) if call.authed else None
            q, headers, cookies = dict(params or {}), {}, {}
            if call.authed:
                call.auth.apply(token, self._values(), q, headers, cookies)
            self.limiter.wait(self.sleep)
            self.stats.requests += 1
            try:
                resp = self.session.request(
                    method, url, params=q or None, json=json_body, data=form, headers=headers,
                    cookies=cookies or None, timeout=self.timeout, allow_redirects=False,
                )  # fmt: skip
                if not call.authed and call.auth.type == "session":
                    self._session_cookies = resp.cookies.get_dict()
                    self.session.cookies.clear()
                return self._classify(resp, call, method, url)
            except _Refresh as exc:
                refreshes += 1
                self.stats.refreshes += 1
                if refreshes > MAX_REFRESHES:
                    again = "重新登录" if call.auth.logs_in else "重新签名"
                    raise self._refused_credentials(
                        call, method, url, f"{again} {MAX_REFRESHES} 次后仍被拒绝：{exc}"
                    ) from None
                self._invalidate(call, token)
                continue
            except _Retry as exc:
                reason, wait = exc.reason, exc.wait
            except requests.Timeout:
                reason, wait = "timeout: 连接超时 (timed out)", None
            except requests.ConnectionError as exc:
                _check_certificate(exc, self._where(call, method, url), url, self.spec.connection)
                reason, wait = f"connection: {_unreachable(exc)}", None
            attempt += 1
            self.stats.retries[reason.split(":", 1)[0]] += 1
            if attempt >= self.spec.max_attempts:
                where = self._where(call, method, url)
                if reason.startswith(("connection:", "timeout:")):
                    raise Unreachable(
                        where, _host(url),
                        f"的主机 {_host(url)} 无法连接（{reason.split(': ', 1)[1]}，"
                        f"共尝试 {attempt} 次）",
                        f"请核对 管理 → 连接 中 {self.spec.connection} 的主机地址与端口，确认源系统"
                        "在运行、网络可达（防火墙、代理）；恢复后重新运行采集",
                    )  # fmt: skip
                raise ApiError(
                    f"{where} 重试 {attempt} 次仍失败 (failed {attempt} times); last: {reason}"
                )
            self._pause(attempt, wait)

    def _refused_credentials(self, call: _Call, method: str, url: str, what: str):
        conn = self.spec.connection
        return CredentialsRefused(
            self._where(call, method, url), _host(url),
            f"的登录名/密码被 {_host(url)} 拒绝（{' '.join(what.split())[:200]}）",
            f"请在 Airflow 界面 管理 → 连接 修改 {conn} 的登录名与密码（向源系统管理员核对接口"
            "密钥），或请源系统为该账号开通接口权限；改好后重新运行采集",
        )  # fmt: skip

    def _pause(self, attempt: int, wait: float | None) -> None:
        if wait is None:
            wait = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
            wait *= 0.75 + self._rng.random() / 2
        wait = min(wait, MAX_WAIT)
        self.stats.waited += wait
        self.sleep(wait)

    def _classify(self, resp: requests.Response, call: _Call, method: str, url: str) -> Any:
        status = resp.status_code
        parsed: list = []

        def body() -> Any:  # parsed once, and only if a rule or the caller needs it
            if not parsed:
                try:
                    value, self.strict = (
                        (None, True) if looks_like_html(resp) else self._json.decode(resp.content)
                    )
                    parsed.append(value)
                except ValueError:
                    parsed.append(None)
            return parsed[0]

        accepted = None if call.authed else call.auth.config.success
        if accepted and accepted.matches(status, body() if accepted.path else None):
            return body()  # a login answer `auth.success` accepts (正方: a 302 and a cookie)
        for rule in call.responses.rules:  # the YAML's rules first, in order
            if rule.when.path is None:
                hit = rule.when.matches(status, None)
            else:
                hit = body() is not None and rule.when.matches(status, body())
            if hit:
                self._act(rule, status, body(), resp, call, f"{method} {url}")
        if status in RETRY_STATUS:
            raise _Retry(f"http_{status}", _retry_after(resp.headers.get("Retry-After")))
        if status == 401 and call.authed and call.auth.logs_in:
            raise _Refresh(f"HTTP 401 {resp.text[:200]}")
        if 300 <= status < 400:
            raise ApiError(
                f"{self._where(call, method, url)} 意外的重定向 HTTP {status} → "
                f"{resp.headers.get('Location')} (unexpected redirect): "
                "在 responses.rules 中为它加一条规则 (add a `responses.rules` entry for it)"
            )
        return self._data(resp, body(), call, method, url)

    def _data(self, resp: requests.Response, data: Any, call: _Call, method: str, url: str):
        """The parsed body of an answer no rule took, or the error it is."""
        status, where = resp.status_code, self._where(call, method, url)
        if status in (401, 403):
            shown = self._message(data, call) if data is not None else resp.text[:200]
            raise self._refused_credentials(call, method, url, f"HTTP {status} {shown}")
        if looks_like_html(resp):
            title = " ".join(resp.text[:200].split())
            if status >= 400:
                raise ApiError(_refused(where, status, f"HTML page: {title}"))
            raise _Retry(f"html_page: HTTP {status} answered with an HTML page: {title}")
        if data is None:
            if status >= 400:
                raise ApiError(_refused(where, status, resp.text[:300]))
            raise _Retry(f"not_json: HTTP {status} body is not JSON: {resp.text[:100]!r}")
        if status >= 400:
            raise ApiError(_refused(where, status, self._message(data, call)))
        success = call.responses.success if call.authed else call.auth.config.success
        if success and not success.matches(status, data):
            if not call.authed:
                raise self._refused_credentials(
                    call, method, url, f"登录失败 {self._message(data, call)}"
                )
            raise ApiError(f"{where} 接口返回错误 (error answer): {self._message(data, call)}")
        return data

    def _act(self, rule, status: int, body: Any, resp, call: _Call, request: str) -> None:
        what = f"HTTP {status} {self._message(body, call) if body is not None else ''}".strip()
        where = f"{self.spec.subsystem}.{call.resource}" if call.resource else self.spec.subsystem
        login = not call.authed and rule.action in ("refresh", "fail")
        if login or (rule.action == "fail" and status in (401, 403)):
            method, url = request.split(" ", 1)
            raise self._refused_credentials(call, method, url, f"登录失败 {what}")
        if rule.action == "refresh":
            raise _Refresh(what)
        if rule.action == "fail":
            raise ApiError(f"{where}: {request} 接口拒绝 (refused): {what}")
        if rule.action == "not_submitted":
            raise NotSubmitted(where, self._message(body, call) if body is not None else what)
        raise _Retry(f"rule: {what}", _rule_wait(rule, body, resp))

    # -- pagination -----------------------------------------------------------------------
    def pages(
        self,
        resource: Resource,
        params: dict,
        pagination: Pagination | None = None,
        identity: Callable[[Any], str] | None = None,
    ) -> Iterator[tuple[list, dict]]:
        """Each page of one listing: (records, {"total": reported total or None, "strict"})."""
        p = pagination or resource.pagination
        pager = paginator(p, note=lambda kind: self.stats.retries.update([kind]))
        strict = [True]

        def fetch(request: Request) -> tuple[list, Any]:
            if request.url:  # a vendor's next link, requested as it is
                body = self._send("GET", urljoin(self.base, request.url), call=self._call(resource))
            else:
                query = {**params, **request.params}
                body = self.request(
                    resource.method, resource.path, params=query, body_style=resource.body,
                    resource=resource,
                )  # fmt: skip
            strict[0] = strict[0] and self.strict
            found, records = lookup(body, p.records)
            if not found or records is None:
                records = []
            if not isinstance(records, list):
                raise ApiError(
                    f"{self.spec.subsystem}.{resource.name}: `{p.records}` 不是列表 (is not a list)"
                )
            return records, body

        try:
            for records, meta in pager.pages(fetch, identity or _json_identity):
                yield records, {**meta, "strict": strict[0]}
        except PagingError as exc:
            raise ApiError(f"{self.spec.subsystem}.{resource.name}: {exc}") from None


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests → urllib3 → socket/ssl), once each."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack += [getattr(e, "reason", None), e.__cause__, e.__context__, *e.args]


def _unreachable(exc: requests.ConnectionError) -> str:
    """Why a connection failed, in a few words (never the repr of urllib3's objects)."""
    for e in _causes(exc):
        if isinstance(e, socket.gaierror) or type(e).__name__ == "NameResolutionError":
            return "域名无法解析 (DNS failure)"
        if isinstance(e, ConnectionRefusedError):
            return "连接被拒绝 (connection refused)"
        if isinstance(e, ConnectionResetError):
            return "连接被重置 (connection reset)"
        if isinstance(e, TimeoutError | socket.timeout):
            return "连接超时 (timed out)"
    return f"无法连接 ({exc.__class__.__name__})"


def _check_certificate(exc: requests.ConnectionError, where: str, url: str, conn: str) -> None:
    """A certificate that fails verification is a CertificateError, never retried or skipped.

    An expired certificate's date is read from the host's certificate itself (fetched again
    without verification, only to be read: nothing is sent over that connection)."""
    failed = next((e for e in _causes(exc) if isinstance(e, ssl.SSLCertVerificationError)), None)
    if failed is None:
        return
    host, code = _host(url), failed.verify_code
    detail = failed.verify_message or str(failed)
    if code == 10:  # X509_V_ERR_CERT_HAS_EXPIRED
        problem = f"的主机 {host} 的 HTTPS 证书已于 {_not_after(url) or '（日期未知）'} 过期"
        fix = "请源系统管理员更新证书后重新运行采集（平台不会跳过证书校验）"
    elif code == 62:  # X509_V_ERR_HOSTNAME_MISMATCH
        problem = f"的主机 {host} 的 HTTPS 证书与主机名不符（{detail}）"
        fix = f"把 管理 → 连接 中 {conn} 的主机改为证书上的名称，或请源系统更换证书"
    else:
        problem = f"的主机 {host} 的 HTTPS 证书未通过校验（{detail}）"
        fix = (
            f"若源系统用学校内部 CA 签发的证书：在 管理 → 连接 中 {conn} 的 extra 写 "
            '{"ca_bundle": "<CA 证书文件路径>"}；否则请源系统更换受信任的证书'
        )
    raise CertificateError(where, host, problem, fix) from None


def _not_after(url: str) -> str | None:
    """When the host's certificate expires, in the platform's time zone, or None."""
    from cryptography import x509

    from include.rules.dates import TZ

    parts = urlsplit(url)
    try:
        pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=10)
        expiry = x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc
    except (OSError, ValueError):
        return None
    return expiry.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def _json_identity(record: Any) -> str:
    return json.dumps(record, sort_keys=True)


def _refused(where: str, status: int, message: str) -> str:
    """One line for a 4xx/5xx answer that is not retried."""
    message = " ".join(str(message).split())
    return (
        f"{where} 请求被拒绝 HTTP {status} (request refused): {message}；"
        "请核对接口路径、参数与权限 (check the path, parameters and permissions)"
    )


def _rule_wait(rule, body: Any, resp: requests.Response) -> float | None:
    """How long a `retry` rule waits: Retry-After, at least `wait` seconds or a body field."""
    wait = _retry_after(resp.headers.get("Retry-After"))
    if isinstance(rule.wait, int | float):
        return max(wait or 0.0, float(rule.wait))
    if isinstance(rule.wait, str) and body is not None:
        found, value = lookup(body, rule.wait)
        try:
            return max(wait or 0.0, float(value)) if found else wait
        except (TypeError, ValueError):
            return wait
    return wait
