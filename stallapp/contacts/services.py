"""Contact rules: recording who signed up, registered or wrote, with their consent."""

import sqlalchemy as sa
from flask import has_request_context
from flask import session as browser_session
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group
from stallapp.accounts.services import normalise_email
from stallapp.contacts.models import Contact
from stallapp.database import utcnow

#: Set by the QR scan redirect (``/q/<code>``) in the visitor's session cookie.
SCANNED_QR_CODE_KEY = "scanned_qr_code_id"


def scanned_qr_code_id() -> int | None:
    """Return the QR code this visitor scanned to get here, if any."""
    if not has_request_context():
        return None
    value = browser_session.get(SCANNED_QR_CODE_KEY)
    return value if isinstance(value, int) else None


def record_contact(
    session: Session,
    group: Group,
    *,
    email: str,
    name: str = "",
    source_event_id: int | None = None,
    source_qr_code_id: int | None = None,
) -> Contact:
    """Return the group's contact for ``email``, creating it on first sight.

    A known contact gets its activity time refreshed (and a name if it had none); where it came
    from is kept from its first appearance. Two requests at once for the same address meet the
    ``(group_id, email)`` unique constraint, so the loser re-reads the winner's row.
    """
    address = normalise_email(email)
    now = utcnow()
    if source_qr_code_id is None:
        source_qr_code_id = scanned_qr_code_id()
    existing = session.scalar(
        sa.select(Contact).where(Contact.group_id == group.id, Contact.email == address)
    )
    if existing is None:
        try:
            with session.begin_nested():
                existing = Contact(
                    group_id=group.id,
                    email=address,
                    name=name.strip(),
                    last_activity_at=now,
                    source_event_id=source_event_id,
                    source_qr_code_id=source_qr_code_id,
                )
                session.add(existing)
                session.flush()
            return existing
        except sa.exc.IntegrityError:
            existing = session.scalar(
                sa.select(Contact).where(Contact.group_id == group.id, Contact.email == address)
            )
    existing.last_activity_at = now
    if name.strip() and not existing.name:
        existing.name = name.strip()
    session.flush()
    return existing
