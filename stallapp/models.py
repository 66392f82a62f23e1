"""Imports every domain's models, so the metadata (create_all, Alembic) sees all tables."""

from stallapp.accounts.models import (
    Group,
    Invitation,
    LoginSession,
    Membership,
    PasswordReset,
    User,
)
from stallapp.contacts.models import (
    Contact,
    ContactMessage,
    ErasureRequest,
    MailingConfirmation,
    RetentionPolicy,
)
from stallapp.events.models import Event, EventSeries, Registration
from stallapp.qr.models import QrCode
from stallapp.sales.models import ClientOperation, EventTill, Sale, SaleLine
from stallapp.stock.models import (
    CatalogueSettings,
    Publication,
    PublicationPrice,
    StockMovement,
    Store,
    SubscriptionOffer,
    SubscriptionPrice,
)
from stallapp.rota.models import (
    Assignment,
    CalendarFeed,
    CoverRequest,
    ReminderSent,
    Shift,
    Unavailability,
)
from stallapp.reports.models import CashCount, CloseOutLogEntry, EventCloseOut, StockCount

__all__ = [
    "CashCount",
    "CloseOutLogEntry",
    "EventCloseOut",
    "StockCount",
    "CatalogueSettings",
    "ClientOperation",
    "EventTill",
    "Publication",
    "PublicationPrice",
    "Sale",
    "SaleLine",
    "StockMovement",
    "Store",
    "SubscriptionOffer",
    "SubscriptionPrice",
    "Assignment",
    "CalendarFeed",
    "Contact",
    "ContactMessage",
    "CoverRequest",
    "ErasureRequest",
    "Event",
    "EventSeries",
    "Group",
    "Invitation",
    "LoginSession",
    "MailingConfirmation",
    "Membership",
    "PasswordReset",
    "QrCode",
    "Registration",
    "ReminderSent",
    "RetentionPolicy",
    "Shift",
    "Unavailability",
    "User",
]
