"""A real HTTPS source for the tests: the campus sandbox behind TLS with a certificate made here.

`certificate(folder, expired=...)` writes a self-signed certificate for 127.0.0.1/localhost
(with the `cryptography` package of the lock) and `https_sandbox(sandbox, cert, key)` serves
the sandbox with it on a free loopback port. A client that refuses the certificate fails the
TLS handshake; the server drops that connection and serves the next one.
"""

from __future__ import annotations

import ipaddress
import ssl
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def certificate(folder: Path, *, expired: bool) -> tuple[Path, Path, datetime]:
    """(certificate file, key file, not-valid-after) of a self-signed loopback certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xiaoben test source")])
    now = datetime.now(UTC).replace(microsecond=0)
    not_after = now - timedelta(days=30) if expired else now + timedelta(days=30)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=365))
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    stem = "expired" if expired else "valid"
    cert_file, key_file = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file, not_after


@contextmanager
def https_sandbox(sandbox, cert: Path, key: Path):
    """The sandbox over HTTPS on a free loopback port: yields its base URL."""
    from sandbox.server import make_server

    server = make_server(sandbox, "127.0.0.1", 0)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, name="https-sandbox", daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
