"""QR code rules: creating codes for a purpose, where they lead, counting scans, drawing them.

The printed payload is ``<PUBLIC_BASE_URL>/q/<code>``: a short absolute URL (so the code stays
small and easy to scan from a table at arm's length) that counts the scan and redirects to the
purpose's public page. ``code`` is 8 URL-safe random characters: unguessable, and a code can be
re-pointed or retired without reprinting anything else.
"""

import html
import io
import re
import secrets

import qrcode
import qrcode.constants
import qrcode.image.svg
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group
from stallapp.errors import ValidationFailed
from stallapp.events.models import Event
from stallapp.qr.models import QrCode, QrPurpose
from stallapp.urls import absolute_url

#: Four modules of white around the code, as the QR specification asks.
QUIET_ZONE = 4
#: Longest label a code may have (the column's length).
LABEL_LENGTH = 120
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M


def create_qr_code(
    session: Session, group: Group, purpose: QrPurpose, label: str, event: Event | None = None
) -> QrCode:
    """Create a code of ``group`` for ``purpose``.

    :raises ValidationFailed: code ``event_required`` when an event code has no event of the group.
    """
    if purpose == QrPurpose.EVENT and (event is None or event.group_id != group.id):
        raise ValidationFailed(_("Choose the event this code leads to."), code="event_required")
    code = QrCode(
        group_id=group.id,
        code=secrets.token_urlsafe(6),
        purpose=purpose,
        event_id=event.id if purpose == QrPurpose.EVENT else None,
        label=label.strip(),
    )
    session.add(code)
    session.flush()
    return code


def own_code_id(session: Session, group: Group, qr_code_id: int | None) -> int | None:
    """Return ``qr_code_id`` if it is one of ``group``'s codes, else None: a visitor may have
    scanned another group's code before, and a scan is only credited to the group it belongs to."""
    if qr_code_id is None:
        return None
    return session.scalar(
        sa.select(QrCode.id).where(QrCode.id == qr_code_id, QrCode.group_id == group.id)
    )


def codes_of(session: Session, group: Group) -> list[QrCode]:
    """Return the group's codes, newest first, with their events."""
    return list(
        session.scalars(
            sa.select(QrCode)
            .where(QrCode.group_id == group.id)
            .options(sa.orm.selectinload(QrCode.event))
            .order_by(QrCode.created_at.desc(), QrCode.id.desc())
        )
    )


def count_scan(session: Session, code: str) -> QrCode | None:
    """Count one scan of ``code`` and return it; None for an unknown code.

    The increment happens in the database, so two phones scanning at once both count.
    """
    updated = session.execute(
        sa.update(QrCode).where(QrCode.code == code).values(scan_count=QrCode.scan_count + 1)
    )
    if updated.rowcount != 1:
        return None
    return session.scalar(
        sa.select(QrCode).where(QrCode.code == code).options(sa.orm.joinedload(QrCode.group))
    )


def payload_url(qr_code: QrCode) -> str:
    """Return the absolute URL the printed code holds."""
    return absolute_url("qr.scan", code=qr_code.code)


def _matrix(data: str) -> qrcode.QRCode:
    matrix = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE, box_size=10)
    matrix.add_data(data)
    matrix.make(fit=True)
    return matrix


def render_svg(data: str) -> bytes:
    """Return the code as a scalable SVG (for printing at any size)."""
    image = _matrix(data).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def render_png(data: str) -> bytes:
    """Return the code as a PNG with 10-pixel modules."""
    image = _matrix(data).make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def inline_svg(data: str, label: str) -> str:
    """Return the code as SVG markup to place in a page, sized by CSS rather than in millimetres,
    named ``label`` for screen readers (an image without a name is announced as nothing)."""
    markup = render_svg(data).decode()
    markup = re.sub(r"^<\?xml[^>]*\?>\s*", "", markup)
    attributes = f'class="qr-svg" role="img" aria-label="{html.escape(label, quote=True)}"'
    return re.sub(r'width="[^"]*" height="[^"]*"', attributes, markup, count=1)
