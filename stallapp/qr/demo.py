"""Demo QR codes: a table card for each group's join page."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group
from stallapp.qr.models import QrCode, QrPurpose
from stallapp.qr.services import create_qr_code

DEMO_LABEL = "Table card: join the mailing list"


def load_demo_qr_codes(session: Session, groups: dict[str, Group]) -> None:
    """Give every demo group a join-page table card, once."""
    for group in groups.values():
        exists = session.scalar(
            sa.select(QrCode.id).where(QrCode.group_id == group.id, QrCode.label == DEMO_LABEL)
        )
        if exists is None:
            create_qr_code(session, group, QrPurpose.JOIN, DEMO_LABEL)
