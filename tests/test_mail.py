"""The outbox: mail is written with the action that causes it and delivered by a worker.

Delivery over a real SMTP server is in test_mail_smtp.py; here the worker hands messages to the
terminal or to a fake transport, so retries, giving up, leases and purging can be checked step
by step with a clock the test moves.
"""

import smtplib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.config import from_environment, parse_boolean
from stallapp.database import utcnow
from stallapp.extensions import db as _db
from stallapp.mail import MailPurpose, send_email
from stallapp.outbox import services
from stallapp.outbox.models import OutgoingMessage, OutgoingStatus
from stallapp.outbox.transport import PermanentFailure, TerminalTransport, Transport
from tests.conftest import PASSWORD, link_in


class FakeTransport(Transport):
    """Records what it is given; fails while ``error`` is set."""

    def __init__(self, error: Exception | None = None):
        super().__init__("stallapp@example.org")
        self.error = error
        self.sent: list[OutgoingMessage] = []

    def send(self, message) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(message)


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def settings(app) -> services.DeliverySettings:
    return services.DeliverySettings.from_config(app.config)


def deliver(transport, settings, clock=None):
    return services.deliver_all_due(_db.engine, transport, settings, now=clock)


def rows(db) -> list[OutgoingMessage]:
    db.session.commit()  # a fresh snapshot: the worker wrote on its own connection
    return list(db.session.scalars(sa.select(OutgoingMessage).order_by(OutgoingMessage.id)))


def test_a_rolled_back_action_sends_nothing(app, db, mail):
    send_email("a@example.org", "Hello", "Body", purpose=MailPurpose.ROTA)
    assert [message.to for message in mail] == ["a@example.org"]
    db.session.rollback()
    assert mail == []
    assert rows(db) == []


def test_a_committed_message_waits_in_the_outbox_with_its_headers(app, db, make_group):
    group = make_group()
    send_email(
        "a@example.org", "Hello", "Body", purpose=MailPurpose.ROTA, group=group, reply_to="o@x.org"
    )
    db.session.commit()
    [row] = rows(db)
    assert row.status == OutgoingStatus.PENDING
    assert row.group_id == group.id
    assert row.purpose == "rota"
    assert row.headers["Reply-To"] == "o@x.org"
    assert row.headers["Message-ID"].startswith("<")
    assert row.headers["Message-ID"].endswith("@localhost>")  # MAIL_DEFAULT_SENDER's domain


def test_no_request_talks_to_a_mail_server(app, db, make_user, mail, monkeypatch):
    app.config["MAIL_SERVER"] = "smtp.invalid"
    monkeypatch.setattr(smtplib, "SMTP", lambda *a, **k: pytest.fail("SMTP in a request"))
    user = make_user(email="olive@example.org")
    response = app.test_client().post("/forgot-password", data={"email": user.email})
    assert response.status_code == 200
    assert [message.to for message in mail] == ["olive@example.org"]
    assert rows(db)[0].status == OutgoingStatus.PENDING


def test_deliver_mail_prints_to_the_terminal_without_smtp_and_forgets_secret_bodies(
    app, db, make_user, mail, runner
):
    user = make_user(email="olive@example.org")
    app.test_client().post("/forgot-password", data={"email": user.email})
    link = link_in(mail[0])
    send_email("b@example.org", "Kept", "Kept body", purpose=MailPurpose.ROTA)
    db.session.commit()
    result = runner.invoke(args=["deliver-mail"])
    assert result.exit_code == 0, result.output
    assert link in result.output
    assert "To: olive@example.org" in result.output
    assert "Mail sent: 2, to retry: 0, given up: 0" in result.output
    reset, kept = rows(db)
    assert reset.status == kept.status == OutgoingStatus.SENT
    assert reset.body == "", "a reset link is not kept once sent"
    assert kept.body == "Kept body"
    again = runner.invoke(args=["deliver-mail"])
    assert "Mail sent: 0" in again.output


def test_a_failing_server_is_retried_with_growing_waits_then_given_up(app, db, settings):
    send_email("a@example.org", "Hello", "Body", purpose=MailPurpose.ROTA)
    db.session.commit()
    clock = Clock()
    transport = FakeTransport(ConnectionRefusedError(111, "Connection refused"))
    waits = []
    for _attempt in range(3):
        report = deliver(transport, settings, clock)
        assert report.retrying == 1
        [row] = rows(db)
        waits.append(row.next_attempt_at - clock.now)
        assert deliver(transport, settings, clock).handled == 0, "not due before its time"
        clock.now = row.next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    [row] = rows(db)
    assert row.attempts == 3
    assert "Connection refused" in row.last_error
    assert row.attempt_log.count("Connection refused") == 3, "each attempt's error is kept"

    clock.advance(days=1)
    report = deliver(transport, settings, clock)
    assert report.failed == 1
    [row] = rows(db)
    assert row.status == OutgoingStatus.FAILED
    assert "(given up)" in row.attempt_log

    assert services.retry(db.session, row)
    db.session.commit()
    transport.error = None
    assert deliver(transport, settings, clock).sent == 1
    assert rows(db)[0].status == OutgoingStatus.SENT
    assert [message.recipient for message in transport.sent] == ["a@example.org"]


def test_a_refused_recipient_is_given_up_at_once(app, db, settings):
    send_email("nobody@example.org", "Hello", "Body", purpose=MailPurpose.ROTA)
    db.session.commit()
    report = deliver(FakeTransport(PermanentFailure("550 no such user")), settings)
    assert report.failed == 1
    assert rows(db)[0].status == OutgoingStatus.FAILED


def test_a_message_of_a_stopped_worker_is_taken_over_after_its_lease(app, db, settings):
    send_email("a@example.org", "Hello", "Body", purpose=MailPurpose.ROTA)
    db.session.commit()
    clock = Clock()
    with Session(_db.engine, expire_on_commit=False) as session:
        claimed = services.claim(session, settings, clock.now, 10)
    assert len(claimed.messages) == 1  # ... and the worker dies before recording anything
    transport = FakeTransport()
    assert deliver(transport, settings, clock).handled == 0, "leased to the first worker"
    clock.advance(seconds=settings.lease.total_seconds() + 1)
    report = deliver(transport, settings, clock)
    assert (report.sent, report.taken_over) == (1, 1)
    [row] = rows(db)
    assert row.status == OutgoingStatus.SENT
    assert row.attempts == 2
    assert row.possible_duplicate
    assert "interrupted" in row.attempt_log


def test_a_late_worker_does_not_overwrite_a_newer_claim(app, db, settings):
    send_email("a@example.org", "Hello", "Body", purpose=MailPurpose.ROTA)
    db.session.commit()
    clock = Clock()
    with Session(_db.engine, expire_on_commit=False) as session:
        [first] = services.claim(session, settings, clock.now, 10).messages
        clock.advance(seconds=settings.lease.total_seconds() + 1)
        with Session(_db.engine, expire_on_commit=False) as other:
            [second] = services.claim(other, settings, clock.now, 10).messages
        # The first worker wakes up and records its failure: the second one's claim stands.
        services._record_failure(
            session, first, OSError("late"), clock.now, settings, services.DeliveryReport()
        )
    [row] = rows(db)
    assert row.status == OutgoingStatus.SENDING
    assert row.attempts == second.attempts == 2


def test_announcements_wait_for_the_rate_and_other_mail_does_not(app, db, settings, make_group):
    group = make_group()
    for number in range(5):
        services.enqueue(
            db.session,
            "s@example.org",
            to=f"s{number}@example.org",
            subject="News",
            body="Body",
            purpose=MailPurpose.ANNOUNCEMENT,
            group_id=group.id,
        )
    send_email("urgent@example.org", "Reset", "Body", purpose=MailPurpose.PASSWORD_RESET)
    db.session.commit()
    limited = services.DeliverySettings(**{**settings.__dict__, "rate_per_minute": 2})
    clock = Clock()
    transport = FakeTransport()
    assert deliver(transport, limited, clock).sent == 3
    assert transport.sent[0].recipient == "urgent@example.org"
    assert deliver(transport, limited, clock).sent == 0
    clock.advance(minutes=1, seconds=1)
    assert deliver(transport, limited, clock).sent == 2
    clock.advance(minutes=1, seconds=1)
    assert deliver(transport, limited, clock).sent == 1


def test_purge_expired_deletes_old_sent_mail_and_keeps_waiting_mail(app, db, runner, settings):
    send_email("sent@example.org", "Hello", "Body", purpose=MailPurpose.ROTA)
    db.session.commit()
    deliver(FakeTransport(), settings)
    send_email("waiting@example.org", "Hello", "Body", purpose=MailPurpose.ROTA)
    db.session.commit()
    db.session.execute(
        sa.update(OutgoingMessage)
        .where(OutgoingMessage.status == OutgoingStatus.SENT)
        .values(sent_at=utcnow() - timedelta(days=31))
    )
    db.session.commit()
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "Old sent or given-up emails deleted: 1" in result.output
    assert [row.recipient for row in rows(db)] == ["waiting@example.org"]


def test_the_admin_page_shows_failures_and_retries_them(
    app, db, client, make_user, login_as, settings
):
    admin = make_user(is_admin=True)
    send_email("bounce@example.org", "Hello", "Body", purpose=MailPurpose.ROTA)
    db.session.commit()
    deliver(FakeTransport(OSError("mail server on fire")), settings)
    login_as(admin)
    page = client.get("/admin/mail/").get_data(as_text=True)
    assert "bounce@example.org" in page
    assert "mail server on fire" in page
    [row] = rows(db)
    response = client.post(f"/admin/mail/{row.id}/retry")
    assert response.status_code == 302
    [row] = rows(db)
    assert row.status == OutgoingStatus.PENDING
    assert row.next_attempt_at <= utcnow()


def test_the_outbox_page_lists_messages_in_development_only(app, db, client, make_user, login_as):
    admin = make_user(is_admin=True)
    member = make_user()
    send_email("a@example.org", "Greetings", "See https://stall.test/x", purpose=MailPurpose.ROTA)
    db.session.commit()
    other = app.test_client()
    other.post("/login", data={"email": member.email, "password": PASSWORD})
    assert other.get("/admin/mail/outbox").status_code == 403
    login_as(admin)
    page = client.get("/admin/mail/outbox").get_data(as_text=True)
    assert "Greetings" in page
    assert 'href="https://stall.test/x"' in page
    app.config["MAIL_SERVER"] = "smtp.example.org"
    assert client.get("/admin/mail/outbox").status_code == 404


def test_the_dev_server_prints_mail_after_the_response(app_config, db, capsys):
    # ``db``: the test app's fixture empties the shared PostgreSQL database afterwards.
    from stallapp import create_app

    app_config["MAIL_TO_TERMINAL"] = True
    dev = create_app(app_config)
    with dev.app_context():
        _db.create_all()
        from stallapp.accounts import services as accounts

        accounts.create_user(_db.session, "olive@example.org", "Olive", "correct horse battery")
        _db.session.commit()
        response = dev.test_client().post(
            "/forgot-password", data={"email": "olive@example.org"}, buffered=False
        )
        assert "reset-password/" not in capsys.readouterr().out
        response.close()
        printed = capsys.readouterr().out
        assert "To: olive@example.org" in printed
        assert "http://stall.test/reset-password/" in printed
        status = _db.session.scalar(sa.select(OutgoingMessage.status))
        assert status == OutgoingStatus.SENT
        _db.session.remove()
        _db.engine.dispose()


def test_with_a_mail_server_the_web_process_leaves_delivery_to_the_worker(
    app_config, db, monkeypatch
):
    # ``db``: the test app's fixture empties the shared PostgreSQL database afterwards.
    from stallapp import create_app

    monkeypatch.setattr(smtplib, "SMTP", lambda *a, **k: pytest.fail("SMTP in a request"))
    app_config["MAIL_TO_TERMINAL"] = True
    app_config["MAIL_SERVER"] = "smtp.example.org"
    production = create_app(app_config)
    with production.app_context():
        _db.create_all()
        from stallapp.accounts import services as accounts

        accounts.create_user(_db.session, "olive@example.org", "Olive", "correct horse battery")
        _db.session.commit()
        response = production.test_client().post(
            "/forgot-password", data={"email": "olive@example.org"}, buffered=False
        )
        response.close()
        status = _db.session.scalar(sa.select(OutgoingMessage.status))
        assert status == OutgoingStatus.PENDING
        _db.session.remove()
        _db.engine.dispose()


def test_terminal_transport_prints_headers_and_links(capsys):
    message = OutgoingMessage(
        recipient="a@example.org",
        subject="Hi",
        body="Open https://stall.test/link",
        headers={"Message-ID": "<1@example.org>"},
    )
    TerminalTransport("stallapp@example.org").send(message)
    printed = capsys.readouterr().out
    assert "From: stallapp@example.org" in printed
    assert "Message-ID: <1@example.org>" in printed
    assert "https://stall.test/link" in printed


def test_mail_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MAIL_SERVER", "localhost")
    monkeypatch.setenv("MAIL_PORT", "25")
    monkeypatch.setenv("MAIL_USE_TLS", "false")
    monkeypatch.setenv("MAIL_USE_SSL", "no")
    monkeypatch.setenv("MAIL_RATE_PER_MINUTE", "30")
    monkeypatch.setenv("MAIL_GIVE_UP_AFTER", "7200")
    settings = from_environment()
    assert settings["MAIL_SERVER"] == "localhost"
    assert settings["MAIL_PORT"] == 25
    assert settings["MAIL_USE_TLS"] is False
    assert settings["MAIL_USE_SSL"] is False
    assert settings["MAIL_RATE_PER_MINUTE"] == 30
    assert settings["MAIL_GIVE_UP_AFTER"] == timedelta(hours=2)
    with pytest.raises(ValueError, match="MAIL_USE_TLS"):
        parse_boolean("MAIL_USE_TLS", "maybe")
