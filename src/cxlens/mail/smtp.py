"""Sending email over SMTP: one connection per sending pass, opened on the first message.

Security follows the setting, never the server's whim: ``starttls`` refuses to send when the server
does not offer STARTTLS (a downgrade would put the password and the customers' addresses on the
wire in clear), ``tls`` connects with TLS from the start, ``none`` is for a relay on the same
machine. Certificates are verified with the system's trust store.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Literal

from cxlens.errors import MailFailed

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: Security
    username: str | None
    password: str | None
    timeout: float
    sender: str
    tls_context: ssl.SSLContext | None = None  # tests trust their own certificate; default: the system's


class Mailer:
    """``with Mailer(settings) as mailer: mailer.send(message)``."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        if "From" not in message:
            message["From"] = self.settings.sender
        try:
            self._connection().send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise MailFailed(
                f"The SMTP server refused the recipient: {_first_reason(error)}", permanent=True
            ) from error
        except smtplib.SMTPResponseException as error:
            permanent = 500 <= error.smtp_code < 600
            self.close()  # after an error the session state is unknown: start the next message afresh
            raise MailFailed(
                f"SMTP {error.smtp_code}: {_text(error.smtp_error)}", permanent=permanent
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise MailFailed(
                f"Cannot send through {self.settings.host}:{self.settings.port}: {error}"
            ) from error

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = s.tls_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise MailFailed(
                        f"{s.host}:{s.port} does not offer STARTTLS, so nothing was sent. Use a server that does, "
                        "CXLENS_SMTP_SECURITY=tls for a TLS port, or none only for a relay on this machine."
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def _first_reason(error: smtplib.SMTPRecipientsRefused) -> str:
    for code, reason in error.recipients.values():
        return f"{code} {_text(reason)}"
    return "no reason given"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
