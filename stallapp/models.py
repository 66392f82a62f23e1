"""Imports every domain's models, so the metadata (create_all, Alembic) sees all tables."""

from stallapp.accounts.models import (
    Group,
    Invitation,
    LoginSession,
    Membership,
    PasswordReset,
    User,
)
from stallapp.contacts.models import Contact
from stallapp.events.models import Event, EventSeries, Registration
from stallapp.qr.models import QrCode

__all__ = [
    "Contact",
    "Event",
    "EventSeries",
    "Group",
    "Invitation",
    "LoginSession",
    "Membership",
    "PasswordReset",
    "QrCode",
    "Registration",
    "User",
]
