"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for invitation tests.

By default it speaks STARTTLS with a self-signed certificate made for 127.0.0.1 and asks for a
login, like a production relay on port 587; ``refuse`` lists recipients it answers 550 for.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.live_server import free_port

USER = "mailer"
PASSWORD = "smtp-test-password"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class Inbox:
    """The aiosmtpd handler: keeps every accepted message."""

    refuse: set[str] = field(default_factory=set)
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} emails within {timeout} s, got {len(self.messages)}")


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and (auth_data.password == PASSWORD.encode())
    )
    return AuthResult(success=ok)


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox
    cert: Path | None

    def client_tls(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and nothing else)."""
        context = (
            ssl.create_default_context(cafile=str(self.cert)) if self.cert else ssl.create_default_context()
        )
        return context


@contextmanager
def smtp_server(tmp_path: Path, *, tls: bool = True, refuse: set[str] | None = None) -> Iterator[SmtpServer]:
    inbox = Inbox(refuse=refuse or set())
    cert = None
    kwargs: dict[str, Any] = {}
    if tls:
        cert, key = self_signed_certificate(tmp_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        kwargs = {"tls_context": context, "require_starttls": True, "authenticator": _authenticate}
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox, cert)
    finally:
        controller.stop()


def links_in(message: EmailMessage) -> list[str]:
    """Every survey link in the plain-text part."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return re.findall(r"https?://\S+/s/cxs_[\w-]+(?:\?\S+)?", body.get_content())
