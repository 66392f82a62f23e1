"""Outgoing email through the outbox: :func:`send_email` adds a row to the caller's transaction.

No web request talks to a mail server. The row commits or rolls back with the action that
causes it, so a rolled-back action emails nobody and a committed one is delivered eventually,
by the worker (``flask --app stallapp deliver-mail``, see :mod:`stallapp.outbox.services`),
which retries until the mail server takes it. Views therefore call ``send_email`` *before*
their commit. Writing a row costs the same whoever it is for, so "reset my password" and
"forget me" answer in the same time whether or not the address is known.
"""

import enum

from flask import current_app

from stallapp.extensions import db


class MailPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose's name, not a password
    INVITATION = "invitation"
    MAILING_CONFIRMATION = "mailing_confirmation"
    ERASURE_REQUEST = "erasure_request"
    REGISTRATION = "registration"
    EVENT_CANCELLED = "event_cancelled"
    ROTA = "rota"
    ANNOUNCEMENT = "announcement"
    ANNOUNCEMENT_TEST = "announcement_test"


#: Mails whose body holds a secret link (reset, invitation, confirm, erase, cancel): the body
#: is blanked once sent, so the outbox never keeps a working key to someone's account or data.
SECRET_PURPOSES = frozenset(
    {
        MailPurpose.PASSWORD_RESET,
        MailPurpose.INVITATION,
        MailPurpose.MAILING_CONFIRMATION,
        MailPurpose.ERASURE_REQUEST,
        MailPurpose.REGISTRATION,
    }
)
#: Mails sent at MAIL_RATE_PER_MINUTE behind everything else: one announcement may be hundreds.
BULK_PURPOSES = frozenset({MailPurpose.ANNOUNCEMENT})


def send_email(
    to: str,
    subject: str,
    body: str,
    *,
    purpose: MailPurpose,
    group=None,
    reply_to: str = "",
    headers: dict[str, str] | None = None,
    only_if: bool | None = None,
):
    """Add one plain-text email to the outbox, in the current database transaction.

    The caller commits (or rolls back) as part of its action; the worker delivers afterwards.
    Returns the :class:`~stallapp.outbox.models.OutgoingMessage` row (None with ``only_if``).

    ``only_if``, when given, writes the message only if true, with one statement that costs
    the same either way: for answers that must not tell whether an address is known.
    """
    # Imported here: the outbox's services import this module's purposes.
    from stallapp.outbox.services import enqueue, enqueue_if

    fields = {
        "to": to,
        "subject": subject,
        "body": body,
        "purpose": purpose,
        "group_id": group.id if group is not None else None,
        "reply_to": reply_to,
        "headers": headers,
    }
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    if only_if is not None:
        enqueue_if(db.session, only_if, sender, **fields)
        return None
    return enqueue(db.session, sender, **fields)
