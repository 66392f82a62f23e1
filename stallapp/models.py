"""Imports every domain's models, so the metadata (create_all, Alembic) sees all tables."""

from stallapp.accounts.models import (
    Group,
    Invitation,
    LoginSession,
    Membership,
    PasswordReset,
    User,
)
from stallapp.announcements.models import Announcement
from stallapp.contacts.models import (
    Contact,
    ContactMessage,
    ErasureRequest,
    MailingConfirmation,
    RetentionPolicy,
)
from stallapp.events.models import Event, EventSeries, Registration
from stallapp.network.models import PublicPageSettings, SiteSettings
from stallapp.outbox.models import OutgoingMessage
from stallapp.qr.models import QrCode
from stallapp.reports.models import (
    CashCount,
    CloseOutLogEntry,
    EventCloseOut,
    EventMoneySummary,
    EventTitleSummary,
    StockCount,
)
from stallapp.rota.models import (
    Assignment,
    CalendarFeed,
    CoverRequest,
    ReminderSent,
    Shift,
    Unavailability,
)
from stallapp.sales.models import ClientOperation, EventTill, LateSale, Sale, SaleLine
from stallapp.stock.models import (
    CatalogueSettings,
    Publication,
    PublicationPrice,
    StockMovement,
    Store,
    SubscriptionOffer,
    SubscriptionPrice,
)

__all__ = [
    "Announcement",
    "Assignment",
    "CalendarFeed",
    "CashCount",
    "CatalogueSettings",
    "ClientOperation",
    "CloseOutLogEntry",
    "Contact",
    "ContactMessage",
    "CoverRequest",
    "ErasureRequest",
    "Event",
    "EventCloseOut",
    "EventMoneySummary",
    "EventSeries",
    "EventTill",
    "EventTitleSummary",
    "Group",
    "Invitation",
    "LateSale",
    "LoginSession",
    "MailingConfirmation",
    "Membership",
    "OutgoingMessage",
    "PasswordReset",
    "PublicPageSettings",
    "Publication",
    "PublicationPrice",
    "QrCode",
    "Registration",
    "ReminderSent",
    "RetentionPolicy",
    "Sale",
    "SaleLine",
    "Shift",
    "SiteSettings",
    "StockCount",
    "StockMovement",
    "Store",
    "SubscriptionOffer",
    "SubscriptionPrice",
    "Unavailability",
    "User",
]
