"""E-mail for the platform: sending through Airflow's SMTP connection, and a local mail catcher.

Sending uses the connection `smtp_default` (set as AIRFLOW_CONN_SMTP_DEFAULT, or in the Airflow
UI). Host, port, login and password are the connection's; the smtp provider 2.x extras are
honoured: `from_email`, `disable_ssl`, `disable_tls`, `timeout` (the provider's `SmtpHook`
reads the connection, so the same settings work for Airflow's own failure mails). Messages are
multipart (plain text + HTML) with a Message-ID the caller can record.

The main job has no mail server, so `start_mail_catcher()` runs one on a loopback port
(aiosmtpd): every message is real SMTP and is stored as an `.eml` file under `.xiaoben/mail/`,
readable with any mail program afterwards. `catcher.connection_env()` gives the
AIRFLOW_CONN_SMTP_DEFAULT value that points at it.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from include import display, settings

DEFAULT_CONN_ID = "smtp_default"
DEFAULT_FROM = "校本数据中心 <xiaoben-noreply@hngy.example.cn>"


# -- sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    login: str
    password: str
    from_email: str
    use_ssl: bool
    starttls: bool
    timeout: int


def smtp_settings(conn_id: str = DEFAULT_CONN_ID) -> SmtpSettings:
    """The SMTP connection as the smtp provider reads it (host, port, credentials, extras)."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    hook = SmtpHook(smtp_conn_id=conn_id)
    hook.smtp_connection = hook.get_connection(conn_id)
    return SmtpSettings(
        host=hook.host or "localhost",
        port=int(hook.smtp_connection.port or (465 if hook.use_ssl else 25)),
        login=hook.smtp_user,
        password=hook.smtp_password,
        from_email=hook.from_email or DEFAULT_FROM,
        use_ssl=hook.use_ssl,
        starttls=hook.smtp_starttls and not hook.use_ssl,
        timeout=hook.timeout,
    )


def build_message(
    to: list[tuple[str, str]] | list[str],
    subject: str,
    text: str,
    html: str | None = None,
    from_email: str = DEFAULT_FROM,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A plain-text message with an HTML alternative; `to` holds (name, address) or addresses.

    The subject, display names and extra headers may carry text from the subsystems: they are
    made one line (`display.header`), so no CR/LF can add a header."""
    msg = EmailMessage()
    msg["Subject"] = display.header(subject)
    msg["From"] = from_email
    msg["To"] = ", ".join(
        formataddr((display.header(t[0]), t[1])) if isinstance(t, tuple) else t for t in to
    )
    msg["Date"] = formatdate(localtime=True)
    domain = from_email.rsplit("@", 1)[-1].strip("> ") or None
    msg["Message-ID"] = make_msgid(domain=domain)
    for key, value in (headers or {}).items():
        msg[key] = display.header(value)
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def send(
    msg: EmailMessage, conn_id: str = DEFAULT_CONN_ID, smtp: SmtpSettings | None = None
) -> str:
    """Send one message through the SMTP connection; returns its Message-ID."""
    s = smtp or smtp_settings(conn_id)
    if "From" not in msg or msg["From"] == DEFAULT_FROM:
        del msg["From"]
        msg["From"] = s.from_email
    client_cls = smtplib.SMTP_SSL if s.use_ssl else smtplib.SMTP
    kwargs = {"context": ssl.create_default_context()} if s.use_ssl else {}
    with client_cls(s.host, s.port, timeout=s.timeout, **kwargs) as client:
        if s.starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if s.login and s.password:
            client.login(s.login, s.password)
        client.send_message(msg)
    return msg["Message-ID"]


# -- the local mail catcher -----------------------------------------------------------------------


def mail_dir() -> Path:
    return settings.state_dir() / "mail"


class _SaveToFolder:
    """aiosmtpd handler: one .eml file per delivered message."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.lock = threading.Lock()
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            path = self.directory / f"{stamp}-{self.count:04d}.eml"
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        rcpts = ", ".join(envelope.rcpt_tos)
        path.write_bytes(f"X-Envelope-To: {rcpts}\r\n".encode() + data)
        return "250 Message accepted for delivery"


class MailCatcher:
    """A loopback SMTP server that stores every message under `directory` as an .eml file."""

    def __init__(self, directory: Path | None = None, host: str = "127.0.0.1", port: int = 0):
        from aiosmtpd.controller import Controller

        self.directory = Path(directory or mail_dir())
        self.directory.mkdir(parents=True, exist_ok=True)
        self.host = host
        if port == 0:
            import socket

            with socket.socket() as sock:
                sock.bind((host, 0))
                port = sock.getsockname()[1]
        self.port = port
        self.controller = Controller(
            _SaveToFolder(self.directory), hostname=host, port=port, decode_data=False
        )

    def start(self) -> MailCatcher:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def connection_env(self, from_email: str = DEFAULT_FROM) -> dict[str, str]:
        """AIRFLOW_CONN_SMTP_DEFAULT pointing at this catcher (no TLS, no login)."""
        conn = {
            "conn_type": "smtp",
            "host": self.host,
            "port": self.port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": from_email},
        }
        return {f"AIRFLOW_CONN_{DEFAULT_CONN_ID.upper()}": json.dumps(conn, ensure_ascii=False)}

    def messages(self) -> list[EmailMessage]:
        return read_messages(self.directory)


def start_mail_catcher(directory: Path | None = None, port: int = 0) -> MailCatcher:
    """Start a mail catcher (the main job's mail server); call .stop() when done."""
    return MailCatcher(directory, port=port).start()


def read_messages(directory: Path | None = None) -> list[EmailMessage]:
    """Every .eml file of a catcher folder, oldest first."""
    folder = Path(directory or mail_dir())
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def main(argv: list[str] | None = None) -> int:
    """`python -m include.mail serve --port 8025`: the mail catcher as a service (`./run up`)."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(prog="python -m include.mail", description="本机邮件捕获服务")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", help="where to store the messages (default .xiaoben/mail/)")
    args = parser.parse_args(argv)
    catcher = MailCatcher(Path(args.dir) if args.dir else None, port=args.port).start()
    print(f"mail catcher on 127.0.0.1:{catcher.port} → {catcher.directory}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    catcher.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
