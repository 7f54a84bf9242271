"""SMTP email: a plain-text message per notification, with STARTTLS when offered or required.

``smtplib`` (standard library) rather than aiosmtplib: the monitoring loop is synchronous
and delivers one notification at a time, so an async client would add a dependency and an
event loop for nothing.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal

from driftline.exceptions import ValidationError
from driftline.monitoring.channels._checks import check_name, check_timeout
from driftline.monitoring.channels.retry import Outcome, RetryPolicy, run_with_retry
from driftline.monitoring.notifications import DeliveryResult, Notification

__all__ = ["EmailChannel", "email_message"]

StartTLS = Literal["auto", "always", "never"]


def _check_address(value: Any, *, channel: str, field: str) -> str:
    if not isinstance(value, str) or value.count("@") != 1 or any(c.isspace() for c in value):
        raise ValidationError(f"channel {channel!r}: field {field!r}: {value!r} is not an address")
    local, domain = value.split("@")
    if not local or not domain:
        raise ValidationError(f"channel {channel!r}: field {field!r}: {value!r} is not an address")
    return value


def email_message(
    notification: Notification, *, sender: str, recipients: Sequence[str]
) -> EmailMessage:
    """The plain-text email for ``notification``."""
    message = EmailMessage()
    message["Subject"] = notification.title()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(notification.created_at.timestamp(), usegmt=True)
    message["Message-ID"] = make_msgid(idstring=notification.id, domain="driftline")
    message["X-Driftline-Group"] = notification.group_key
    message.set_content(notification.text())
    return message


class EmailChannel:
    """Send notifications by SMTP.

    ``starttls``: ``auto`` upgrades when the server offers STARTTLS, ``always`` refuses to
    send without it, ``never`` sends in the clear (a local relay). ``use_ssl`` connects with
    TLS from the start (port 465). Replies 4xx and dropped connections are retried; 5xx are not.

    >>> EmailChannel(host="smtp.example.com", sender="ml@example.com",
    ...              recipients=["oncall@example.com"]).name
    'email'
    """

    def __init__(
        self,
        *,
        host: str,
        sender: str,
        recipients: Sequence[str],
        port: int = 587,
        starttls: StartTLS = "auto",
        use_ssl: bool = False,
        username: str | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        name: str = "email",
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = check_name(name)
        if not isinstance(host, str) or not host.strip() or any(c in host for c in "/: "):
            raise ValidationError(f"channel {name!r}: field 'host': {host!r} is not a host name")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValidationError(f"channel {name!r}: field 'port' must be 1..65535")
        if starttls not in ("auto", "always", "never"):
            raise ValidationError(
                f"channel {name!r}: field 'starttls' must be auto, always or never"
            )
        if isinstance(recipients, str) or not recipients:
            raise ValidationError(f"channel {name!r}: field 'recipients' must be a non-empty list")
        if (username is None) != (password is None):
            raise ValidationError(
                f"channel {name!r}: give both 'username' and 'password' or neither"
            )
        self.host, self.port, self.starttls, self.use_ssl = host, port, starttls, use_ssl
        self.sender = _check_address(sender, channel=name, field="sender")
        self.recipients = [_check_address(r, channel=name, field="recipients") for r in recipients]
        self.username, self.password = username, password
        self.ssl_context = ssl_context
        self.timeout = check_timeout(timeout, channel=name)
        self.retry = retry or RetryPolicy()
        self.sleep, self.monotonic = sleep, monotonic

    def send(self, notification: Notification) -> DeliveryResult:
        """Send the email; the result says whether the server accepted it for every recipient."""
        message = email_message(notification, sender=self.sender, recipients=self.recipients)
        return run_with_retry(
            lambda: self._attempt(message),
            channel=self.name,
            policy=self.retry,
            sleep=self.sleep,
            monotonic=self.monotonic,
        )

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.use_ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _attempt(self, message: EmailMessage) -> Outcome:
        where = f"{self.host}:{self.port}"
        try:
            with self._connect() as smtp:
                smtp.ehlo()
                if not self.use_ssl and self.starttls != "never":
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                        smtp.ehlo()
                    elif self.starttls == "always":
                        return Outcome(False, error=f"{where} does not offer STARTTLS (required)")
                if self.username is not None and self.password is not None:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            return _refused(where, exc.recipients)
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            return Outcome(
                False,
                400 <= exc.smtp_code < 500,
                exc.smtp_code,
                f"{where} replied {exc.smtp_code} {text}",
            )
        except (smtplib.SMTPServerDisconnected, TimeoutError, ConnectionError) as exc:
            return Outcome(
                False, True, error=f"cannot deliver via {where}: {type(exc).__name__}: {exc}"
            )
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            return Outcome(False, error=f"cannot deliver via {where}: {type(exc).__name__}: {exc}")
        if refused:
            return _refused(where, refused)
        return Outcome(True, status_code=250)


def _refused(where: str, refused: dict[str, tuple[int, bytes]]) -> Outcome:
    codes = [code for code, _ in refused.values()]
    names = ", ".join(f"{addr} ({code})" for addr, (code, _) in sorted(refused.items()))
    return Outcome(
        False, all(400 <= c < 500 for c in codes), codes[0], f"{where} refused recipients {names}"
    )
