"""Outgoing email: SMTP when configured, otherwise the log plus an in-memory outbox.

Views send mail after they commit, so a rolled-back action never emails anyone.
"""

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    body: str


def outbox() -> list[OutgoingEmail]:
    """Return the messages this app kept instead of sending (no SMTP server configured)."""
    return current_app.extensions.setdefault("stallapp_outbox", [])


def send_email(to: str, subject: str, body: str) -> None:
    """Send one plain-text email."""
    message = OutgoingEmail(to=to, subject=subject, body=body)
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        outbox().append(message)
        log.info("email not sent (no MAIL_SERVER): subject=%r\n%s", subject, body)
        return
    envelope = EmailMessage()
    envelope["From"] = config["MAIL_DEFAULT_SENDER"]
    envelope["To"] = to
    envelope["Subject"] = subject
    envelope.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(envelope)
