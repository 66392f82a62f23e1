"""Outgoing email: SMTP when configured, otherwise the log plus an in-memory outbox.

Views send mail after they commit, so a rolled-back action never emails anyone. During a
request, SMTP delivery waits until the response has gone out: a slow mail server then never
slows a page, and the answer to "reset my password" or "forget me" takes as long whether or
not the address is known.
"""

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import after_this_request, current_app, has_request_context

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
    """Send one plain-text email (after the response, when called during a request)."""
    message = OutgoingEmail(to=to, subject=subject, body=body)
    if not current_app.config.get("MAIL_SERVER"):
        outbox().append(message)
        log.info("email not sent (no MAIL_SERVER): subject=%r\n%s", subject, body)
        return
    if not has_request_context():
        _deliver(current_app.config, message)
        return
    config = dict(current_app.config)

    @after_this_request
    def deliver_after_response(response):
        response.call_on_close(lambda: _deliver_logging_errors(config, message))
        return response


def _deliver_logging_errors(config: dict, message: OutgoingEmail) -> None:
    try:
        _deliver(config, message)
    except (OSError, smtplib.SMTPException):
        log.exception("email delivery failed: subject=%r", message.subject)


def _deliver(config, message: OutgoingEmail) -> None:
    envelope = EmailMessage()
    envelope["From"] = config["MAIL_DEFAULT_SENDER"]
    envelope["To"] = message.to
    envelope["Subject"] = message.subject
    envelope.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(envelope)
