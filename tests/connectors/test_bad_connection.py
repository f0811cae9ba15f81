"""Bad configuration of a subsystem's link, met by the one HTTP client (issue 15 item 6).

Each fault is a `LinkError` with a Chinese problem and fix (what the task's one line and the
collectors' warning say, `connectors.dag_support`): a wrong secret for every subsystem of the
sandbox and an HTTPS certificate that fails verification are refused at once, without a retry;
an unreachable host (connection refused, a name that does not resolve) is retried with back-off
and then named. The HTTPS source is the real sandbox behind TLS (`tests/tls.py`).
"""

from __future__ import annotations

import socket

import pytest

from connectors.client import (
    MAX_REFRESHES,
    CertificateError,
    Client,
    Credentials,
    CredentialsRefused,
    Unreachable,
)
from connectors.extract import Extractor
from connectors.spec import spec_for
from tests.connectors.test_http_client import Sleeps
from tests.sandbox_scope import sandbox_specs
from tests.tls import certificate, https_sandbox


def first_page(client: Client, spec) -> list:
    res = spec.resources[spec.landed[0]]
    return next(iter(Extractor(client, spec, lambda r: repr(r)).pages(res, None))).records


@pytest.mark.parametrize("subsystem", sorted(sandbox_specs()))
def test_a_wrong_secret_is_refused_at_once_naming_the_connection(campus, subsystem):
    campus.faults()
    spec = spec_for(subsystem)
    good = campus.credentials(subsystem)
    client = Client(spec, Credentials(good.base_url, good.key, "wrong-secret"), sleep=Sleeps())
    with pytest.raises(CredentialsRefused) as err:
        first_page(client, spec)
    fault = err.value
    assert fault.permanent and not client.stats.retries and client.stats.waited == 0
    assert client.stats.requests <= 1 + MAX_REFRESHES  # a signature is re-signed, then refused
    assert fault.problem.startswith(f"的登录名/密码被 {fault.host} 拒绝（")
    assert f"管理 → 连接 修改 {spec.connection} 的登录名与密码" in fault.fix
    assert "wrong-secret" not in str(fault) + fault.problem + fault.fix


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "host, reason",
    [
        (f"http://127.0.0.1:{_closed_port()}", "连接被拒绝"),
        ("http://nosuch.invalid", "域名无法解析"),
    ],
    ids=["connection refused", "DNS failure"],
)
def test_an_unreachable_host_is_retried_with_backoff_then_named(host, reason):
    spec = spec_for("decision")
    sleeps = Sleeps()
    client = Client(spec, Credentials(f"{host}/decision", "k", "s"), sleep=sleeps)
    with pytest.raises(Unreachable) as err:
        first_page(client, spec)
    fault = err.value
    assert not fault.permanent  # the task retries it too, and warns only on its last try
    assert client.stats.retries == {"connection": spec.max_attempts}
    backoff = sum(min(0.5 * 2**k, 30) for k in range(spec.max_attempts - 1))  # the defaults
    assert client.stats.waited >= 0.75 * backoff  # exponential back-off (jitter ±25 %)
    assert f"无法连接（{reason}" in fault.problem
    assert f"共尝试 {spec.max_attempts} 次" in fault.problem
    assert spec.connection in fault.fix and "主机地址与端口" in fault.fix
    assert "object at 0x" not in fault.problem and "Traceback" not in str(fault)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("certs")
    return {expired: certificate(folder, expired=expired) for expired in (True, False)}


def test_an_expired_certificate_fails_at_once_with_its_date(campus, certs):
    """Trusted (its CA given in the connection) but expired: the message gives the date; the
    certificate is never skipped, so nothing is read and nothing is retried."""
    cert, key, not_after = certs[True]
    spec = spec_for("decision")
    good = campus.credentials("decision")
    with https_sandbox(campus.sandbox, cert, key) as base:
        creds = Credentials(f"{base}/decision", good.key, good.secret, str(cert))
        client = Client(spec, creds, sleep=Sleeps())
        with pytest.raises(CertificateError) as err:
            first_page(client, spec)
    fault = err.value
    assert fault.permanent and client.stats.requests == 1 and not client.stats.retries
    from include.rules.dates import TZ

    date = not_after.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    assert fault.problem == f"的主机 {fault.host} 的 HTTPS 证书已于 {date} 过期"
    assert "请源系统管理员更新证书" in fault.fix and "不会跳过证书校验" in fault.fix


def test_an_untrusted_certificate_names_the_ca_setting_and_works_once_it_is_set(campus, certs):
    cert, key, _ = certs[False]
    spec = spec_for("decision")
    good = campus.credentials("decision")
    with https_sandbox(campus.sandbox, cert, key) as base:
        untrusted = Client(spec, Credentials(f"{base}/decision", good.key, good.secret))
        with pytest.raises(CertificateError) as err:
            first_page(untrusted, spec)
        assert "未通过校验（self-signed certificate）" in err.value.problem
        assert f"{spec.connection} 的 extra 写" in err.value.fix and "ca_bundle" in err.value.fix
        trusted = Credentials(f"{base}/decision", good.key, good.secret, str(cert))
        assert first_page(Client(spec, trusted), spec)  # the real data, over verified TLS
