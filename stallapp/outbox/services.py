"""The outbox: rows written in the action's transaction, delivered later by a worker.

Delivery happens in three short transactions per message, so that nothing is lost and nothing
is sent twice by two workers:

1. *Claim*: due rows are locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock,
   taken up front by :func:`~stallapp.database.begin_write`) and marked ``sending`` with a lease,
   then committed, before any mail server is spoken to. Another worker skips them.
2. *Send*: the worker hands the message to the transport, outside any transaction.
3. *Record*: ``sent`` (or the error, and when to try again) is written only if the row is still
   this worker's claim (same attempt number), so a late worker never overwrites a newer one.

A worker killed between 2 and 3 leaves a ``sending`` row whose lease runs out; the next worker
takes it over and records that the first attempt may have been delivered already: at most one
duplicate, and a recorded one. Retries wait twice as long each time; a message still failing
MAIL_GIVE_UP_AFTER after it was written is given up and shown to admins.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.announcements.models import Announcement
from stallapp.database import begin_write, utcnow
from stallapp.mail import BULK_PURPOSES, SECRET_PURPOSES, MailPurpose
from stallapp.outbox.models import OutgoingMessage, OutgoingStatus
from stallapp.outbox.transport import PermanentFailure, Transport

log = logging.getLogger(__name__)

#: Messages one claim takes: small, so that one worker's lease never covers much mail.
BATCH_SIZE = 20
#: The attempt log keeps this many lines (the oldest go first).
LOG_LINES_KEPT = 30
ERROR_LENGTH = 500


def message_id_for(sender: str) -> str:
    """Return a fresh ``Message-ID`` on the sender's domain (kept for every retry of the mail)."""
    domain = sender.strip().strip("<>").rpartition("@")[2].strip(" >") or "localhost"
    return make_msgid(domain=domain)


def _row_values(
    sender: str,
    *,
    to: str,
    subject: str,
    body: str,
    purpose: MailPurpose,
    group_id: int | None,
    reply_to: str,
    headers: dict[str, str] | None,
    announcement_id: int | None,
    contact_id: int | None,
    now: datetime,
) -> dict:
    all_headers = {"Message-ID": message_id_for(sender)}
    if reply_to:
        all_headers["Reply-To"] = reply_to
    all_headers.update(headers or {})
    return {
        "recipient": to,
        "subject": subject,
        "body": body,
        "headers": all_headers,
        "purpose": str(purpose),
        "group_id": group_id,
        "status": OutgoingStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "attempt_log": "",
        "possible_duplicate": False,
        "announcement_id": announcement_id,
        "contact_id": contact_id,
        "created_at": now,
    }


def enqueue(
    session: Session,
    sender: str,
    *,
    to: str,
    subject: str,
    body: str,
    purpose: MailPurpose,
    group_id: int | None = None,
    reply_to: str = "",
    headers: dict[str, str] | None = None,
    announcement_id: int | None = None,
    contact_id: int | None = None,
) -> OutgoingMessage:
    """Add a message to the outbox in the session's transaction (written at its next flush)."""
    message = OutgoingMessage(
        **_row_values(
            sender,
            to=to,
            subject=subject,
            body=body,
            purpose=purpose,
            group_id=group_id,
            reply_to=reply_to,
            headers=headers,
            announcement_id=announcement_id,
            contact_id=contact_id,
            now=utcnow(),
        )
    )
    session.add(message)
    return message


def enqueue_if(session: Session, send: bool, sender: str, **fields) -> None:
    """Add a message only when ``send``, with the same one statement either way.

    For answers that must not tell whether an address is known ("forgot password"): an
    ``INSERT ... SELECT ... WHERE :send`` writes one row or none, at the same cost.
    """
    values = _row_values(
        sender,
        group_id=fields.pop("group_id", None),
        reply_to=fields.pop("reply_to", ""),
        headers=fields.pop("headers", None),
        announcement_id=None,
        contact_id=None,
        now=utcnow(),
        **fields,
    )
    table = OutgoingMessage.__table__
    names = list(values)
    selected = sa.select(
        *(sa.literal(values[name], type_=table.c[name].type).label(name) for name in names)
    ).where(sa.literal(send, type_=sa.Boolean) == sa.true())
    session.execute(sa.insert(table).from_select(names, selected))


# Delivery


@dataclass
class DeliveryReport:
    """What one run of the worker did, in counts."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    #: Messages taken over from a worker that died while sending them.
    taken_over: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


@dataclass(frozen=True)
class DeliverySettings:
    retry_first: timedelta
    retry_max: timedelta
    give_up_after: timedelta
    lease: timedelta
    rate_per_minute: int

    @classmethod
    def from_config(cls, config) -> "DeliverySettings":
        return cls(
            retry_first=config["MAIL_RETRY_FIRST"],
            retry_max=config["MAIL_RETRY_MAX"],
            give_up_after=config["MAIL_GIVE_UP_AFTER"],
            lease=config["MAIL_SEND_LEASE"],
            rate_per_minute=config["MAIL_RATE_PER_MINUTE"],
        )


def retry_delay(attempts: int, settings: DeliverySettings) -> timedelta:
    """Return the wait after the ``attempts``-th failed attempt: doubling, up to the maximum."""
    return min(settings.retry_first * 2 ** max(attempts - 1, 0), settings.retry_max)


def _logged(existing: str, line: str) -> str:
    lines = [*existing.splitlines(), line]
    return "\n".join(lines[-LOG_LINES_KEPT:])


def _stamp(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M:%S UTC")


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(
            OutgoingMessage.status == OutgoingStatus.PENDING,
            OutgoingMessage.next_attempt_at <= now,
        ),
        sa.and_(
            OutgoingMessage.status == OutgoingStatus.SENDING,
            OutgoingMessage.lease_expires_at <= now,
        ),
    )


def _bulk_budget(session: Session, now: datetime, settings: DeliverySettings) -> int:
    """How many bulk messages may still start this minute (MAIL_RATE_PER_MINUTE)."""
    started = session.scalar(
        sa.select(sa.func.count())
        .select_from(OutgoingMessage)
        .where(
            OutgoingMessage.purpose.in_([str(p) for p in BULK_PURPOSES]),
            OutgoingMessage.last_attempt_at > now - timedelta(minutes=1),
        )
    )
    return max(settings.rate_per_minute - started, 0)


@dataclass
class Claimed:
    messages: list[OutgoingMessage]
    #: How many of them were taken over from a worker that stopped while sending them.
    taken_over: int = 0


def claim(session: Session, settings: DeliverySettings, now: datetime, limit: int) -> Claimed:
    """Mark up to ``limit`` due messages ``sending`` under a lease, and commit.

    Other mail goes first; bulk mail (announcements) fills what the per-minute rate leaves.
    ``session`` must not expire on commit: the claimed rows are used after it.
    """
    begin_write(session)
    bulk = OutgoingMessage.purpose.in_([str(p) for p in BULK_PURPOSES])
    order = (OutgoingMessage.next_attempt_at, OutgoingMessage.id)

    def lock(condition, how_many: int) -> list[OutgoingMessage]:
        if how_many <= 0:
            return []
        return list(
            session.scalars(
                sa.select(OutgoingMessage)
                .where(_due(now), condition)
                .order_by(*order)
                .limit(how_many)
                .with_for_update(skip_locked=True)
            )
        )

    messages = lock(~bulk, limit)
    room = limit - len(messages)
    if room > 0:
        messages += lock(bulk, min(room, _bulk_budget(session, now, settings)))
    claimed = Claimed(messages)
    for message in messages:
        if message.status == OutgoingStatus.SENDING:
            # Its worker stopped after claiming it: the server may have taken it already.
            claimed.taken_over += 1
            message.possible_duplicate = True
            message.attempt_log = _logged(
                message.attempt_log,
                f"{_stamp(now)} attempt {message.attempts}: interrupted (the worker stopped); "
                "it may have been delivered, so this message may arrive twice",
            )
            log.warning("outbox: message %s taken over from a stopped worker", message.id)
        message.status = OutgoingStatus.SENDING
        message.attempts += 1
        message.lease_expires_at = now + settings.lease
        message.last_attempt_at = now
    session.commit()
    return claimed


def _record(session: Session, message_id: int, attempt: int, values: dict) -> bool:
    """Write an attempt's outcome if the message is still this attempt's claim."""
    begin_write(session)
    changed = session.execute(
        sa.update(OutgoingMessage)
        .where(
            OutgoingMessage.id == message_id,
            OutgoingMessage.status == OutgoingStatus.SENDING,
            OutgoingMessage.attempts == attempt,
        )
        .values(**values)
    ).rowcount
    return changed == 1


def _count_for_announcement(session: Session, message: OutgoingMessage, column: str) -> None:
    if message.announcement_id is not None:
        session.execute(
            sa.update(Announcement)
            .where(Announcement.id == message.announcement_id)
            .values({column: getattr(Announcement, column) + 1})
        )


def _record_sent(session: Session, message: OutgoingMessage, now: datetime) -> None:
    values = {
        "status": OutgoingStatus.SENT,
        "sent_at": now,
        "lease_expires_at": None,
        "last_error": "",
    }
    if message.purpose in SECRET_PURPOSES:
        values["body"] = ""
    if _record(session, message.id, message.attempts, values):
        _count_for_announcement(session, message, "delivered_count")
    session.commit()


def _record_failure(
    session: Session,
    message: OutgoingMessage,
    error: Exception,
    now: datetime,
    settings: DeliverySettings,
    report: DeliveryReport,
) -> None:
    text = f"{type(error).__name__}: {error}".removesuffix(": ")[:ERROR_LENGTH]
    permanent = isinstance(error, PermanentFailure)
    started = message.retried_at or message.created_at
    give_up = permanent or now - started >= settings.give_up_after
    line = f"{_stamp(now)} attempt {message.attempts}: {text}"
    values = {"last_error": text, "lease_expires_at": None}
    if give_up:
        values["status"] = OutgoingStatus.FAILED
        line += " (given up)"
    else:
        values["status"] = OutgoingStatus.PENDING
        values["next_attempt_at"] = now + retry_delay(message.attempts, settings)
    values["attempt_log"] = _logged(message.attempt_log, line)
    if _record(session, message.id, message.attempts, values):
        if give_up:
            _count_for_announcement(session, message, "failed_count")
            report.failed += 1
            log.error("outbox: message %s given up: %s", message.id, text)
        else:
            report.retrying += 1
            log.warning("outbox: message %s will be retried: %s", message.id, text)
    session.commit()


def deliver_due(
    engine: sa.Engine,
    transport: Transport,
    settings: DeliverySettings,
    *,
    now=None,
    limit: int = BATCH_SIZE,
) -> DeliveryReport:
    """Claim one batch of due messages, hand each to ``transport`` and record the outcome.

    Uses a session of its own on ``engine`` (never a request's): it commits after the claim and
    after each message, and holds no transaction while the mail server is spoken to. ``now``
    (a callable returning the time) is for tests.
    """
    clock = now or utcnow
    report = DeliveryReport()
    with Session(engine, expire_on_commit=False) as session:
        claimed = claim(session, settings, clock(), limit)
        report.taken_over = claimed.taken_over
        if not claimed.messages:
            return report
        with transport:
            for message in claimed.messages:
                try:
                    transport.send(message)
                except Exception as error:  # every failure is recorded and retried
                    _record_failure(session, message, error, clock(), settings, report)
                else:
                    _record_sent(session, message, clock())
                    report.sent += 1
    return report


def deliver_all_due(
    engine: sa.Engine, transport: Transport, settings: DeliverySettings, *, now=None
) -> DeliveryReport:
    """Deliver batches until nothing more is due (or only mail held back by the rate)."""
    total = DeliveryReport()
    while True:
        report = deliver_due(engine, transport, settings, now=now)
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed
        total.taken_over += report.taken_over
        if report.handled == 0:
            return total


# Admins


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    sending: int
    sent: int
    failed: int
    retrying: int


def counts(session: Session) -> OutboxCounts:
    """Count the outbox's messages by status; ``retrying``: pending after a failed attempt."""
    retried = sa.and_(
        OutgoingMessage.status == OutgoingStatus.PENDING, OutgoingMessage.last_error != ""
    )
    rows = session.execute(
        sa.select(
            OutgoingMessage.status,
            sa.func.count(),
            sa.func.count().filter(retried),
        ).group_by(OutgoingMessage.status)
    ).all()
    by_status = {status: count for status, count, _retrying in rows}
    retrying = sum(retrying for _status, _count, retrying in rows)
    return OutboxCounts(
        pending=by_status.get(OutgoingStatus.PENDING, 0),
        sending=by_status.get(OutgoingStatus.SENDING, 0),
        sent=by_status.get(OutgoingStatus.SENT, 0),
        failed=by_status.get(OutgoingStatus.FAILED, 0),
        retrying=retrying,
    )


def troubled(session: Session, limit: int = 50) -> list[OutgoingMessage]:
    """Return the messages given up or waiting after an error, most recent first."""
    return list(
        session.scalars(
            sa.select(OutgoingMessage)
            .where(
                sa.or_(
                    OutgoingMessage.status == OutgoingStatus.FAILED,
                    sa.and_(
                        OutgoingMessage.status == OutgoingStatus.PENDING,
                        OutgoingMessage.last_error != "",
                    ),
                )
            )
            .order_by(OutgoingMessage.last_attempt_at.desc(), OutgoingMessage.id.desc())
            .limit(limit)
        )
    )


def recent(session: Session, limit: int = 50) -> list[OutgoingMessage]:
    """Return the most recently written messages."""
    return list(
        session.scalars(sa.select(OutgoingMessage).order_by(OutgoingMessage.id.desc()).limit(limit))
    )


def retry(session: Session, message: OutgoingMessage) -> bool:
    """Put a given-up or waiting message back to be tried at once; return whether it was.

    The attempt count and the log stay; the time before giving up counts from now.
    """
    if message.status not in (OutgoingStatus.FAILED, OutgoingStatus.PENDING):
        return False
    now = utcnow()
    if message.status == OutgoingStatus.FAILED and message.announcement_id is not None:
        session.execute(
            sa.update(Announcement)
            .where(Announcement.id == message.announcement_id, Announcement.failed_count > 0)
            .values(failed_count=Announcement.failed_count - 1)
        )
    message.status = OutgoingStatus.PENDING
    message.next_attempt_at = now
    message.retried_at = now
    session.flush()
    return True


def purge(session: Session, keep_for: timedelta, now: datetime | None = None) -> int:
    """Delete sent and given-up messages older than ``keep_for``; return how many went."""
    cutoff = (now or utcnow()) - keep_for
    return session.execute(
        sa.delete(OutgoingMessage).where(
            OutgoingMessage.status.in_([OutgoingStatus.SENT, OutgoingStatus.FAILED]),
            sa.func.coalesce(OutgoingMessage.sent_at, OutgoingMessage.last_attempt_at) < cutoff,
        )
    ).rowcount


def forget_address(session: Session, group_id: int, address: str) -> int:
    """Delete the group's messages to ``address`` (a "forget me"); return how many went."""
    return session.execute(
        sa.delete(OutgoingMessage).where(
            OutgoingMessage.group_id == group_id, OutgoingMessage.recipient == address
        )
    ).rowcount
