"""The worker against a real SMTP server (aiosmtpd, started by each test on a free port).

Delivered once; a server that is down is waited for and then delivered to once; a worker
killed while the server holds its message loses nothing and duplicates at most once, saying so;
STARTTLS, implicit TLS and AUTH LOGIN work; several workers at once never send a message twice;
SIGTERM lets a looping worker finish its batch and stop.
"""

import asyncio
import email
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from stallapp import PROJECT_ROOT
from stallapp.database import utcnow
from stallapp.extensions import db as _db
from stallapp.mail import MailPurpose, send_email
from stallapp.outbox import services
from stallapp.outbox.models import OutgoingMessage, OutgoingStatus
from stallapp.outbox.transport import SmtpTransport

#: Generous bound for waiting on another thread or process; the tests never measure time.
PATIENCE = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps what it receives; ``stall`` holds DATA open."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[tuple[str, str]] = []
        self.received = threading.Event()
        self.stall = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.set()
        while self.stall.is_set() and not self.release.is_set():
            await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append((mechanism, auth_data.login.decode()))
            # handled=False: aiosmtpd answers a failure with 535 itself.
            return AuthResult(success=auth_data.password == b"s3cret", handled=False)
        return AuthResult(success=False, handled=False)

    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for message in self.messages]


class SmtpServer:
    def __init__(self, port: int | None = None, **options):
        self.port = port or free_port()
        self.mailbox = Mailbox()
        if options.get("authenticator") is True:
            options["authenticator"] = self.mailbox.authenticate
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.mailbox.release.set()
        self.controller.stop()


@pytest.fixture
def certificate(tmp_path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_tls(certificate) -> ssl.SSLContext:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def use_server(app, port: int, **settings) -> None:
    app.config.update(
        {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "MAIL_USE_TLS": False,
            "MAIL_USE_SSL": False,
            "MAIL_DEFAULT_SENDER": "Stall app <stallapp@example.org>",
            **settings,
        }
    )


def deliver(app, now=None) -> services.DeliveryReport:
    return services.deliver_all_due(
        _db.engine,
        SmtpTransport(app.config),
        services.DeliverySettings.from_config(app.config),
        now=now,
    )


def outbox_rows(db) -> list[OutgoingMessage]:
    db.session.commit()
    return list(db.session.scalars(sa.select(OutgoingMessage).order_by(OutgoingMessage.id)))


def write_mail(db, count: int = 1, purpose=MailPurpose.ROTA) -> None:
    for number in range(count):
        send_email(f"person{number}@example.org", f"Hello {number}", "Body", purpose=purpose)
    db.session.commit()


def test_a_message_is_delivered_once_with_its_headers(app, db, runner):
    with SmtpServer() as server:
        use_server(app, server.port)
        send_email(
            "rosa@example.org",
            "Shift changed",
            "See https://stall.test/x",
            purpose=MailPurpose.ROTA,
            reply_to="olive@example.org",
        )
        db.session.commit()
        result = runner.invoke(args=["deliver-mail"])
        assert result.exit_code == 0, result.output
        assert "Mail sent: 1" in result.output
        runner.invoke(args=["deliver-mail"])
    [message] = server.mailbox.messages
    assert server.mailbox.envelopes == [("stallapp@example.org", ["rosa@example.org"])]
    assert message["From"] == "Stall app <stallapp@example.org>"
    assert message["To"] == "rosa@example.org"
    assert message["Subject"] == "Shift changed"
    assert message["Reply-To"] == "olive@example.org"
    assert message["Date"]
    [row] = outbox_rows(db)
    assert message["Message-ID"] == row.headers["Message-ID"]
    assert "https://stall.test/x" in message.get_payload(decode=True).decode()
    assert row.status == OutgoingStatus.SENT and row.attempts == 1


def test_a_server_that_is_down_is_waited_for_then_delivered_to_once(app, db):
    port = free_port()
    use_server(app, port)
    write_mail(db)
    report = deliver(app)
    assert report.retrying == 1
    [row] = outbox_rows(db)
    assert row.status == OutgoingStatus.PENDING
    assert "refused" in row.last_error.lower()
    assert row.next_attempt_at > row.last_attempt_at, "backoff recorded"
    later = row.next_attempt_at + timedelta(seconds=1)
    with SmtpServer(port=port) as server:
        assert deliver(app).handled == 0, "waits for its retry time"
        assert deliver(app, now=lambda: later).sent == 1
        assert deliver(app, now=lambda: later + timedelta(hours=1)).handled == 0
    assert len(server.mailbox.messages) == 1
    [row] = outbox_rows(db)
    assert (row.status, row.attempts, row.possible_duplicate) == (OutgoingStatus.SENT, 2, False)
    assert row.attempt_log.count("\n") == 0, "one failed attempt logged"


def _worker_environment(app, database_url: str, port: int) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MAIL_", "FLASK_", "DATABASE_URL"))
    }
    environment.update(
        {
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": "http://stall.test",
            "SECRET_KEY": "test-only-secret",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(port),
            "MAIL_USE_TLS": "false",
            "MAIL_TIMEOUT": "120",
        }
    )
    return environment


def test_a_worker_killed_mid_send_loses_nothing_and_duplicates_at_most_once(app, db, database_url):
    write_mail(db)
    with SmtpServer() as server:
        server.mailbox.stall.set()
        flask = Path(sys.executable).with_name("flask")
        worker = subprocess.Popen(
            [str(flask), "--app", "stallapp", "deliver-mail", "--loop", "--interval", "0.2"],
            cwd=PROJECT_ROOT,
            env=_worker_environment(app, database_url, server.port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert server.mailbox.received.wait(PATIENCE), "the worker never reached DATA"
            [row] = outbox_rows(db)
            assert row.status == OutgoingStatus.SENDING, "claimed before SMTP was spoken"
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(PATIENCE)
        server.mailbox.release.set()

        lease = app.config["MAIL_SEND_LEASE"]
        use_server(app, server.port)
        assert deliver(app).handled == 0, "the dead worker's lease still holds"
        after_lease = utcnow() + lease + timedelta(seconds=1)
        report = deliver(app, now=lambda: after_lease)
        assert (report.sent, report.taken_over) == (1, 1)
    copies = server.mailbox.message_ids()
    assert 1 <= len(copies) <= 2
    assert len(set(copies)) == 1, "a duplicate carries the same Message-ID"
    [row] = outbox_rows(db)
    assert row.status == OutgoingStatus.SENT
    if len(copies) == 2:
        assert row.possible_duplicate
        assert "may arrive twice" in row.attempt_log


def test_starttls_and_auth_login(app, db, certificate):
    with SmtpServer(
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=True,
        auth_require_tls=True,
        auth_exclude_mechanism=["PLAIN"],
    ) as server:
        use_server(
            app,
            server.port,
            MAIL_USE_TLS=True,
            MAIL_CA_FILE=str(certificate[0]),
            MAIL_USERNAME="stallapp",
            MAIL_PASSWORD="s3cret",
        )
        write_mail(db)
        assert deliver(app).sent == 1
    assert server.mailbox.logins == [("LOGIN", "stallapp")]
    assert len(server.mailbox.messages) == 1


def test_a_wrong_password_is_recorded_and_retried(app, db, certificate):
    with SmtpServer(
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=True,
        auth_exclude_mechanism=["LOGIN"],
    ) as server:
        use_server(
            app,
            server.port,
            MAIL_USE_TLS=True,
            MAIL_CA_FILE=str(certificate[0]),
            MAIL_USERNAME="stallapp",
            MAIL_PASSWORD="wrong",
        )
        write_mail(db)
        assert deliver(app).retrying == 1
    [row] = outbox_rows(db)
    assert row.status == OutgoingStatus.PENDING
    assert "SMTPAuthenticationError" in row.last_error
    assert server.mailbox.messages == []


def test_an_untrusted_certificate_is_refused(app, db, certificate):
    with SmtpServer(tls_context=server_tls(certificate), require_starttls=True) as server:
        use_server(app, server.port, MAIL_USE_TLS=True)
        write_mail(db)
        assert deliver(app).retrying == 1
    assert "CERTIFICATE_VERIFY_FAILED" in outbox_rows(db)[0].last_error
    assert server.mailbox.messages == []


def test_implicit_tls(app, db, certificate):
    with SmtpServer(ssl_context=server_tls(certificate)) as server:
        use_server(app, server.port, MAIL_USE_SSL=True, MAIL_CA_FILE=str(certificate[0]))
        write_mail(db)
        assert deliver(app).sent == 1
    assert len(server.mailbox.messages) == 1


def test_several_workers_at_once_never_send_a_message_twice(app, db):
    write_mail(db, count=30)
    with SmtpServer() as server:
        use_server(app, server.port)
        errors = []

        def work():
            try:
                deliver(app)
            except Exception as error:  # reported below, in the test's thread
                errors.append(error)

        def work_in_context():
            with app.app_context():
                work()

        workers = [threading.Thread(target=work_in_context) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(PATIENCE * 4)
    assert errors == []
    ids = server.mailbox.message_ids()
    assert len(ids) == 30
    assert len(set(ids)) == 30, "no message twice"
    rows = outbox_rows(db)
    assert {row.status for row in rows} == {OutgoingStatus.SENT}
    assert all(row.attempts == 1 for row in rows)


def test_the_looping_worker_stops_cleanly_on_sigterm(app, db, database_url):
    with SmtpServer() as server:
        flask = Path(sys.executable).with_name("flask")
        worker = subprocess.Popen(
            [str(flask), "--app", "stallapp", "deliver-mail", "--loop", "--interval", "0.2"],
            cwd=PROJECT_ROOT,
            env=_worker_environment(app, database_url, server.port),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            write_mail(db)
            assert server.mailbox.received.wait(PATIENCE), "the worker delivered nothing"
        finally:
            worker.send_signal(signal.SIGTERM)
            output, errors = worker.communicate(timeout=PATIENCE)
    assert worker.returncode == 0, errors
    assert b"Mail sent: 1" in output
    assert outbox_rows(db)[0].status == OutgoingStatus.SENT
