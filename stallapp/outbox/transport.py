"""How the worker hands a message over: to an SMTP server, or to the terminal in development."""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

import click

from stallapp.database import utcnow


class PermanentFailure(Exception):
    """The server refused the message for good (a 5xx answer to its recipient or content)."""


def build_email(message, sender: str) -> EmailMessage:
    """Return the email for an outbox row: From, To, Subject, Date, Message-ID and its headers."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body)
    return email


class Transport:
    """Sends messages; used as a context manager around one batch."""

    def __init__(self, sender: str):
        self.sender = sender

    def __enter__(self) -> "Transport":
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def send(self, message) -> None:
        raise NotImplementedError


class TerminalTransport(Transport):
    """Print each email, links and all, to the terminal (no MAIL_SERVER: development)."""

    def send(self, message) -> None:
        email = build_email(message, self.sender)
        rule = "-" * 72
        headers = "\n".join(f"{name}: {value}" for name, value in email.items())
        click.echo(f"{rule}\n{headers}\n\n{message.body}\n{rule}")


class SmtpTransport(Transport):
    """One SMTP connection per batch: STARTTLS, implicit TLS or plain, then login if configured.

    Once connecting fails, the rest of the batch fails with the same error at once rather than
    each waiting for the timeout.
    """

    def __init__(self, config):
        super().__init__(config["MAIL_DEFAULT_SENDER"])
        self.host = config["MAIL_SERVER"]
        self.port = config["MAIL_PORT"]
        self.use_tls = config["MAIL_USE_TLS"]
        self.use_ssl = config["MAIL_USE_SSL"]
        self.username = config["MAIL_USERNAME"]
        self.password = config["MAIL_PASSWORD"]
        self.timeout = config["MAIL_TIMEOUT"]
        # Certificates are always checked; MAIL_CA_FILE trusts a private relay's own CA.
        self.tls_context = ssl.create_default_context(cafile=config.get("MAIL_CA_FILE") or None)
        if self.use_tls and self.use_ssl:
            raise ValueError(
                "MAIL_USE_TLS (STARTTLS, port 587) and MAIL_USE_SSL (implicit TLS, port 465) "
                "are both on: choose one"
            )
        self.smtp: smtplib.SMTP | None = None
        self.connect_error: Exception | None = None

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.tls_context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls:
                smtp.starttls(context=self.tls_context)
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def __enter__(self) -> "SmtpTransport":
        self.connect_error = None
        return self

    def __exit__(self, *exc_info) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def send(self, message) -> None:
        if self.connect_error is not None:
            raise self.connect_error
        if self.smtp is None:
            try:
                self.smtp = self._connect()
            except (OSError, smtplib.SMTPException) as error:
                self.connect_error = error
                raise
        email = build_email(message, self.sender)
        try:
            self.smtp.send_message(email, from_addr=self.sender, to_addrs=[message.recipient])
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {error.recipients}") from error
            raise
        except smtplib.SMTPDataError as error:
            if error.smtp_code >= 500:
                raise PermanentFailure(f"message refused: {error.smtp_code} {error}") from error
            raise
        except (OSError, smtplib.SMTPServerDisconnected):
            # The connection is in an unknown state: the next message opens a new one.
            self.smtp.close()
            self.smtp = None
            raise


def transport_for(config) -> Transport:
    """Return the transport the settings ask for: SMTP when MAIL_SERVER is set."""
    if config.get("MAIL_SERVER"):
        return SmtpTransport(config)
    return TerminalTransport(config["MAIL_DEFAULT_SENDER"])
