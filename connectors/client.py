"""The one HTTP client every subsystem uses: auth, retries, throttling, pagination.

Everything vendor-specific comes from the `api:` section of the subsystem's YAML
(`connectors/spec.py`); this module only knows the general shapes:

- auth: `token` (a login request whose answer holds a token, sent as a header or query
  parameter; cached per app and process), `session` (a login that sets a cookie),
  `signature` (fresh nonce + timestamp + hash on every request), `none`;
- failures: connection errors, timeouts, HTTP 408/425/429/5xx and an HTML page answered with
  200 (a maintenance or login page) are retried with exponential backoff and jitter, honouring
  `Retry-After` and any wait the YAML points at in the body (DingTalk's gateway `wait`);
  the YAML's `responses.rules` map a vendor's status codes and error codes to `refresh` (log in
  again, then retry), `retry` or `fail`; a response that fails `responses.success` fails;
- a per-subsystem rate limit (requests per second, shared by every client of the process);
- pagination: `page_number`, `offset`, `cursor`, `next_link` and `single`.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import math
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import msgspec
import requests

from connectors.spec import ApiSpec, Pagination, Resource, lookup

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_WAIT = 300.0  # DingTalk's longest block is 5 minutes
MAX_REFRESHES = 5


class ApiError(RuntimeError):
    """A request failed for good (not retryable, or still failing after every attempt)."""


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.wait = reason, wait


class _Refresh(Exception):
    pass


@dataclass(frozen=True)
class Credentials:
    """Base URL and app key/secret of one subsystem, from its Airflow connection."""

    base_url: str
    key: str = ""
    secret: str = ""


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


def _render(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format_map(values)
    if isinstance(template, dict):
        return {k: _render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_render(v, values) for v in template]
    return template


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
        self.session.trust_env = False
        self.backoff, self.max_backoff = backoff, max_backoff
        self.timeout = timeout or spec.timeout
        self.sleep = sleep
        self.limiter = _limiter(spec.subsystem, rate_limit or spec.rate_limit)
        self.stats = Stats()
        self._rng = random.Random()
        secret = hashlib.sha256(credentials.secret.encode()).hexdigest()
        self._token_key = (spec.subsystem, self.base, credentials.key, secret)
        self._session_cookies: dict = {}
        self.strict = True  # whether landing may re-encode the last body the fast way
        self._json = JsonDecoder()

    # -- auth -----------------------------------------------------------------------------
    def _values(self) -> dict[str, str]:
        return {"key": self.creds.key, "secret": self.creds.secret}

    def _token(self) -> Any:
        if self.spec.auth.type not in ("token", "session"):
            return None
        with _TOKEN_LOCK:
            token = _TOKENS.get(self._token_key)
        return token if token is not None else self._login()

    def _login(self) -> Any:
        auth = self.spec.auth
        login = _render(auth.login or {}, self._values())
        method = str(login.get("method", "POST")).upper()
        body = self._send(
            method,
            self._url(login["path"]),
            params=login.get("params"),
            json_body=login.get("json"),
            form=login.get("form"),
            authed=False,
        )
        self.stats.logins += 1
        if auth.success and not auth.success.matches(200, body):
            raise ApiError(
                f"{self.spec.subsystem}: 登录失败 (login refused): {self._message(body)}"
            )
        if auth.type == "session":
            token = self._session_cookies
        else:
            found, token = lookup(body, auth.token_path)
            if not found or not token:
                raise ApiError(
                    f"{self.spec.subsystem}: no token at `{auth.token_path}` in the login answer"
                )
        with _TOKEN_LOCK:
            _TOKENS[self._token_key] = token
        return token

    def _invalidate(self, token: Any) -> None:
        with _TOKEN_LOCK:
            if token is not None and _TOKENS.get(self._token_key) == token:
                del _TOKENS[self._token_key]  # unless another client already logged in again

    def _apply_auth(self, token: Any, params: dict, headers: dict, cookies: dict) -> None:
        auth = self.spec.auth
        if auth.type == "token":
            value = auth.send_value.format(token=token)
            if auth.send_header:
                headers[auth.send_header] = value
            if auth.send_query:
                params[auth.send_query] = value
        elif auth.type == "session":
            cookies.update(token)
        elif auth.type == "signature":
            now_ms = str(int(time.time() * 1000))
            values = {**self._values(), "nonce": uuid.uuid4().hex, "timestamp_ms": now_ms,
                      "timestamp": now_ms[:-3]}  # fmt: skip
            params.update(_render(auth.params, values))
            digest = hashlib.new(auth.signature_algorithm)
            digest.update(auth.signature_value.format_map(values).encode("utf-8"))
            params[auth.signature_param] = digest.hexdigest()

    # -- one request ----------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return urljoin(self.base, path.lstrip("/")) if not path.startswith("http") else path

    def _message(self, body: Any) -> str:
        path = self.spec.responses.message_path
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
    ) -> Any:
        """Send one logical request (retrying as needed); returns the parsed JSON body."""
        params = dict(params or {})
        if body_style == "query" or method == "GET":
            return self._send(method, self._url(path), params=params)
        if body_style == "form":
            return self._send(method, self._url(path), form=params)
        return self._send(method, self._url(path), json_body=params)

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        form: dict | None = None,
        authed: bool = True,
    ) -> Any:
        attempt = refreshes = 0
        last = ""
        while True:
            token = self._token() if authed else None
            q, headers, cookies = dict(params or {}), {}, {}
            if authed:
                self._apply_auth(token, q, headers, cookies)
            self.limiter.wait(self.sleep)
            self.stats.requests += 1
            try:
                resp = self.session.request(
                    method, url, params=q or None, json=json_body, data=form, headers=headers,
                    cookies=cookies or None, timeout=self.timeout, allow_redirects=False,
                )  # fmt: skip
                if not authed and self.spec.auth.type == "session":
                    self._session_cookies = resp.cookies.get_dict()
                    self.session.cookies.clear()
                return self._classify(resp, authed)
            except _Refresh as exc:
                refreshes += 1
                self.stats.refreshes += 1
                if refreshes > MAX_REFRESHES:
                    raise ApiError(
                        f"{self.spec.subsystem}: {url}: still refused after {MAX_REFRESHES} "
                        f"fresh logins: {exc}"
                    ) from None
                self._invalidate(token)
                continue
            except _Retry as exc:
                reason, wait = exc.reason, exc.wait
            except requests.Timeout:
                reason, wait = "timeout", None
            except requests.ConnectionError as exc:
                reason, wait = f"connection: {exc.__class__.__name__}", None
            attempt += 1
            kind = reason.split(":", 1)[0]
            self.stats.retries[kind] += 1
            last = reason
            if attempt >= self.spec.max_attempts:
                raise ApiError(
                    f"{self.spec.subsystem}: {method} {url} failed {attempt} times; last: {last}"
                )
            if wait is None:
                wait = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
                wait *= 0.75 + self._rng.random() / 2
            wait = min(wait, MAX_WAIT)
            self.stats.waited += wait
            self.sleep(wait)

    def _classify(self, resp: requests.Response, authed: bool) -> Any:
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

        for rule in self.spec.responses.rules:  # the YAML's rules first, in order
            if rule.when.path is None:
                hit = rule.when.matches(status, None)
            else:
                hit = body() is not None and rule.when.matches(status, body())
            if hit:
                self._act(rule, status, body(), resp, authed)
        if status in RETRY_STATUS:
            raise _Retry(f"http_{status}", _retry_after(resp.headers.get("Retry-After")))
        if status == 401 and authed and self.spec.auth.type in ("token", "session"):
            raise _Refresh(f"HTTP 401 {resp.text[:200]}")
        if 300 <= status < 400:
            raise ApiError(
                f"{self.spec.subsystem}: unexpected redirect {status} to "
                f"{resp.headers.get('Location')}: add a `responses.rules` entry for it"
            )
        if looks_like_html(resp):
            title = resp.text[:200].replace("\n", " ")
            if status >= 400:
                raise ApiError(f"{self.spec.subsystem}: HTTP {status} page: {title}")
            raise _Retry(f"html_page: HTTP {status} answered with an HTML page: {title}")
        data = body()
        if data is None:
            if status >= 400:
                raise ApiError(f"{self.spec.subsystem}: HTTP {status}: {resp.text[:300]}")
            raise _Retry(f"not_json: HTTP {status} body is not JSON: {resp.text[:100]!r}")
        if status >= 400:
            raise ApiError(f"{self.spec.subsystem}: HTTP {status}: {self._message(data)}")
        success = self.spec.responses.success
        if authed and success and not success.matches(status, data):
            raise ApiError(f"{self.spec.subsystem}: error answer: {self._message(data)}")
        return data

    def _act(self, rule, status: int, body: Any, resp: requests.Response, authed: bool) -> None:
        what = f"HTTP {status} {self._message(body) if body is not None else ''}".strip()
        if rule.action == "refresh" and not authed:
            raise ApiError(f"{self.spec.subsystem}: 登录失败 (login refused): {what}")
        if rule.action == "refresh":
            raise _Refresh(what)
        if rule.action == "fail":
            raise ApiError(f"{self.spec.subsystem}: {what}")
        wait = _retry_after(resp.headers.get("Retry-After"))
        if isinstance(rule.wait, int | float):
            wait = max(wait or 0.0, float(rule.wait))
        elif isinstance(rule.wait, str) and body is not None:
            found, value = lookup(body, rule.wait)
            if found:
                try:
                    wait = max(wait or 0.0, float(value))
                except (TypeError, ValueError):
                    pass
        raise _Retry(f"rule: {what}", wait)

    # -- pagination -----------------------------------------------------------------------
    def pages(
        self,
        resource: Resource,
        params: dict,
        pagination: Pagination | None = None,
        identity: Callable[[Any], str] | None = None,
    ) -> Iterator[tuple[list, dict]]:
        """Each page of one listing: (records, {"total": reported total or None})."""
        p = pagination or resource.pagination
        ident = identity or (lambda r: json.dumps(r, sort_keys=True))
        strict = [True]
        method, style, path = resource.method, resource.body, resource.path

        def get(extra: dict) -> tuple[list, Any]:
            body = self.request(method, path, params={**params, **extra}, body_style=style)
            strict[0] = strict[0] and self.strict
            found, records = lookup(body, p.records)
            if not found or records is None:
                records = []
            if not isinstance(records, list):
                raise ApiError(
                    f"{self.spec.subsystem}.{resource.name}: `{p.records}` is not a list"
                )
            return records, body

        def total_of(body: Any) -> int | None:
            if not p.total:
                return None
            found, value = lookup(body, p.total)
            try:
                return int(value) if found and value is not None else None
            except (TypeError, ValueError):
                return None

        size = {p.size_param: p.size} if p.size_param and p.size else {}
        if p.type == "single":
            records, body = get({})
            yield records, {"total": total_of(body), "strict": strict[0]}
        elif p.type == "page_number":
            page = p.start if p.start is not None else 1
            first = page
            while True:
                records, body = get({p.page_param: page, **size})
                total = total_of(body)
                yield records, {"total": total, "strict": strict[0]}
                pages = None
                if p.pages:
                    found, value = lookup(body, p.pages)
                    pages = int(value) if found and value is not None else None
                if pages is None and total is not None and p.size:
                    pages = -(-total // p.size)
                done = (
                    page - first + 1 >= pages if pages is not None else len(records) < (p.size or 1)
                )
                if not records or done:
                    return
                page += 1
        elif p.type == "offset":
            for records, meta in self._offset_pages(p, get, total_of, size, ident):
                yield records, {**meta, "strict": strict[0]}
        elif p.type == "cursor":
            cursor = p.start
            seen = set()
            while True:
                records, body = get(
                    {p.cursor_param: cursor, **size} if cursor is not None else size
                )
                yield records, {"total": total_of(body), "strict": strict[0]}
                more = True
                if p.has_more:
                    found, value = lookup(body, p.has_more)
                    more = bool(found and value)
                nxt = lookup(body, p.next_cursor)[1] if p.next_cursor else None
                if not more or nxt in (None, "") or nxt in seen:
                    return
                seen.add(nxt)
                cursor = nxt
        elif p.type == "next_link":
            records, body = get(size)
            while True:
                yield records, {"total": total_of(body), "strict": strict[0]}
                found, nxt = lookup(body, p.next)
                if not found or not nxt:
                    return
                body = self._send("GET", urljoin(self.base, nxt))  # verbatim: keeps filters
                strict[0] = strict[0] and self.strict
                found, records = lookup(body, p.records)
                records = records if found and isinstance(records, list) else []

    def _offset_pages(self, p: Pagination, get, total_of, size: dict, ident) -> Iterator:
        """Offset paging. With `overlap`, rows inserted or deleted mid-read (which shift every
        later page) cannot hide a record: consecutive pages share `overlap` records (a page
        sharing none moved too far and is read again), the first page is read until it stops
        changing, and one probe past the last page catches a tail pushed out of view. Records
        the previous page already gave are not handed on again."""
        step = (p.size or 0) - p.overlap
        offset, prev, probing = p.start or 0, None, False
        while True:
            for _ in range(4):
                records, body = get({p.offset_param: offset, **size})
                ids = {ident(r) for r in records}
                if not p.overlap or prev is None or not records or ids & prev:
                    break
                self.stats.retries["page_gap"] += 1
            else:
                raise ApiError(
                    f"{self.spec.subsystem}: offset {offset} never overlaps the previous page "
                    "(rows moving faster than we read); pull again later"
                )
            if p.overlap and prev is None:  # the head: read again until two reads add nothing
                quiet = reads = 0
                while quiet < 2 and reads < 6:
                    again, _ = get({p.offset_param: offset, **size})
                    reads += 1
                    extra = [r for r in again if ident(r) not in ids]
                    quiet = 0 if extra else quiet + 1
                    records += extra
                    ids |= {ident(r) for r in extra}
            total = total_of(body)
            fresh = records if prev is None else [r for r in records if ident(r) not in prev]
            if probing and not fresh:
                return
            yield fresh, {"total": total}
            if not records:
                return
            more = True
            if p.has_more:
                found, value = lookup(body, p.has_more)
                more = bool(found and value)
            elif total is not None:
                more = offset + (p.size or len(records)) < total
            if not more and (not p.overlap or probing):
                return
            probing = not more
            prev = ids | (prev or set()) if probing else ids
            offset += step if p.overlap else (p.size or len(records))
