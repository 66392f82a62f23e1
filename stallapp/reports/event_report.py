"""One event's report: stock per title, money, cash against the count, outreach, QR codes and
staffing. Every figure is an SQL aggregate, so the page runs the same handful of statements
whatever the size of the event."""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts.models import User
from stallapp.contacts.models import Contact
from stallapp.events.models import Event, Registration, RegistrationStatus
from stallapp.qr.models import QrCode
from stallapp.reports.closeout import cash_taken, close_out_of
from stallapp.reports.figures import COLUMNS, TitleFigures, title_figures
from stallapp.reports.models import EventCloseOut
from stallapp.reports.sql import TITLE_GROUP, minutes_between, signed, standing
from stallapp.rota.models import Assignment, Shift
from stallapp.sales import late as sales_late
from stallapp.sales import till as tills
from stallapp.sales.models import LateSaleStatus, PaymentMethod, Sale, SaleKind, SaleLine
from stallapp.stock.lookups import title_label
from stallapp.stock.models import Publication, SubscriptionOffer


@dataclass
class MoneyRow:
    currency: str
    kind: SaleKind
    payment_method: PaymentMethod
    amount: int
    count: int


@dataclass
class TitleTakings:
    publication_id: int
    title: str
    currency: str
    copies: int
    amount: int


@dataclass
class SubscriptionRow:
    name: str
    currency: str
    count: int
    amount: int


@dataclass
class CashRow:
    """Expected against counted cash in one currency; counted is None before the close-out."""

    currency: str
    float_amount: int
    taken: int
    counted: int | None
    note: str = ""

    @property
    def expected(self) -> int:
        return self.float_amount + self.taken

    @property
    def difference(self) -> int | None:
        return None if self.counted is None else self.counted - self.expected


@dataclass
class Outreach:
    sign_ups: int
    sign_ups_by_qr: int
    registrations: int
    qr_scans: int
    #: Registrations (places taken) that came through an announcement's event link.
    registrations_from_announcements: int = 0


@dataclass
class StaffRow:
    user_id: int
    name: str
    shifts: int
    minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


@dataclass
class EventReport:
    event: Event
    #: The event's close-out, standing or reopened (None before the first one).
    close_out: EventCloseOut | None
    #: When the event was closed out, from its till; None while it is open or reopened.
    closed_at: datetime | None
    titles: list[TitleFigures]
    takings: list[TitleTakings]
    money: list[MoneyRow]
    subscriptions: list[SubscriptionRow]
    cash: list[CashRow]
    outreach: Outreach
    qr_codes: list[tuple[str, int]]
    staff: list[StaffRow]
    totals: dict[str, int] = field(default_factory=dict)
    #: Sales phones synced after the close-out, held ones first.
    late_sales: list[sales_late.LateSaleLine] = field(default_factory=list)

    @property
    def held_count(self) -> int:
        return sum(1 for line in self.late_sales if line.late.status == LateSaleStatus.HELD)

    @property
    def money_by_currency(self) -> dict[str, int]:
        """Return all the money taken per currency (never added across currencies)."""
        totals: dict[str, int] = {}
        for row in self.money:
            totals[row.currency] = totals.get(row.currency, 0) + row.amount
        return dict(sorted(totals.items()))

    @property
    def staff_minutes(self) -> int:
        return sum(row.minutes for row in self.staff)


def money_rows(session: Session, event: Event) -> list[MoneyRow]:
    """Return money per currency, kind and payment method (undos subtracted), in one query."""
    rows = session.execute(
        sa.select(
            Sale.currency,
            Sale.kind,
            Sale.payment_method,
            sa.func.sum(signed(Sale.amount)),
            sa.func.sum(signed(sa.literal(1))),
        )
        .where(Sale.event_id == event.id, Sale.kind != SaleKind.GIVEAWAY)
        .group_by(Sale.currency, Sale.kind, Sale.payment_method)
        .order_by(Sale.currency, Sale.kind, Sale.payment_method)
    )
    return [
        MoneyRow(currency, SaleKind(kind), PaymentMethod(method), int(amount), int(count))
        for currency, kind, method, amount, count in rows
        if count
    ]


def title_takings(session: Session, event: Event) -> list[TitleTakings]:
    """Return copies sold and money taken per title and currency (sales not undone)."""
    rows = session.execute(
        standing(
            sa.select(
                Publication.id,
                title_label(),
                Sale.currency,
                sa.func.sum(SaleLine.quantity),
                sa.func.sum(SaleLine.amount),
            ).select_from(Sale)
        )
        .join(SaleLine, SaleLine.sale_id == Sale.id)
        .join(Publication, Publication.id == SaleLine.publication_id)
        .where(
            Sale.event_id == event.id,
            Sale.kind == SaleKind.SALE,
        )
        .group_by(Publication.id, *TITLE_GROUP, Sale.currency)
        .order_by(*TITLE_GROUP, Sale.currency)
    )
    return [
        TitleTakings(pid, title, cur, int(n), int(amount)) for pid, title, cur, n, amount in rows
    ]


def subscription_rows(session: Session, event: Event) -> list[SubscriptionRow]:
    """Return subscriptions sold per offer and currency (undos subtracted)."""
    rows = session.execute(
        sa.select(
            SubscriptionOffer.name,
            Sale.currency,
            sa.func.sum(signed(sa.literal(1))),
            sa.func.sum(signed(Sale.amount)),
        )
        .join(SubscriptionOffer, SubscriptionOffer.id == Sale.subscription_offer_id)
        .where(Sale.event_id == event.id, Sale.kind == SaleKind.SUBSCRIPTION)
        .group_by(SubscriptionOffer.name, Sale.currency)
        .order_by(SubscriptionOffer.name, Sale.currency)
    )
    return [
        SubscriptionRow(name, currency, int(count), int(amount))
        for name, currency, count, amount in rows
        if count
    ]


def cash_rows(session: Session, event: Event, close_out_row: EventCloseOut | None) -> list[CashRow]:
    """Return expected against counted cash per currency; pass the close-out only while it
    stands (a reopened event's count is no longer the event's).

    Expected is the float plus the cash taken now (undos after a reopen included), so a count
    that no longer matches the ledger shows up.
    """
    taken = cash_taken(session, event)
    counted = {}
    if close_out_row is not None:
        counted = {count.currency: count for count in close_out_row.cash_counts}
    currencies = sorted(set(taken) | set(counted))
    return [
        CashRow(
            currency=currency,
            float_amount=counted[currency].float_amount if currency in counted else 0,
            taken=taken.get(currency, 0),
            counted=counted[currency].counted_amount if currency in counted else None,
            note=counted[currency].note if currency in counted else "",
        )
        for currency in currencies
    ]


def outreach(session: Session, event: Event) -> Outreach:
    """Count sign-ups, registrations (and those from announcements) and QR scans that came from
    the event, in one query. A sign-up counts once its address is confirmed by email, as the
    mailing list itself does: an address nobody confirmed may be a typo or someone else's."""
    event_codes = sa.select(QrCode.id).where(QrCode.event_id == event.id)
    confirmed = Contact.confirmed_at.is_not(None)
    row = session.execute(
        sa.select(
            sa.select(sa.func.count(Contact.id))
            .where(Contact.source_event_id == event.id, confirmed)
            .scalar_subquery(),
            sa.select(sa.func.count(Contact.id))
            .where(Contact.source_qr_code_id.in_(event_codes), confirmed)
            .scalar_subquery(),
            sa.select(sa.func.count(Registration.id))
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.REGISTERED,
            )
            .scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.sum(QrCode.scan_count), 0))
            .where(QrCode.event_id == event.id)
            .scalar_subquery(),
            sa.select(sa.func.count(Registration.id))
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.REGISTERED,
                Registration.source_announcement_id.is_not(None),
            )
            .scalar_subquery(),
        )
    ).one()
    return Outreach(*(int(value) for value in row))


def qr_codes_of(session: Session, event: Event) -> list[tuple[str, int]]:
    """Return ``(label, scans)`` of the event's QR codes."""
    rows = session.execute(
        sa.select(QrCode.label, QrCode.scan_count)
        .where(QrCode.event_id == event.id)
        .order_by(QrCode.label)
    )
    return [(label, int(scans)) for label, scans in rows]


def staffing(where) -> sa.Select:
    """Shifts and minutes per member over the shifts ``where`` picks (not cancelled, not
    withdrawn); the event report and the group's volunteer hours both read it."""
    return (
        sa.select(
            User.id,
            User.name,
            sa.func.count(Assignment.id),
            sa.func.sum(minutes_between(Shift.starts_at, Shift.ends_at)),
        )
        .join(Shift, Shift.id == Assignment.shift_id)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.withdrawn_at.is_(None), Shift.cancelled_at.is_(None), where)
        .group_by(User.id, User.name)
    )


def staff_rows(session: Session, event: Event) -> list[StaffRow]:
    """Return who staffed the event and for how long (shifts not cancelled, not withdrawn)."""
    rows = session.execute(staffing(Shift.event_id == event.id).order_by(User.name))
    return [StaffRow(uid, name, int(n), int(minutes or 0)) for uid, name, n, minutes in rows]


def event_report(session: Session, event: Event) -> EventReport:
    """Gather the event's report: a fixed number of aggregate queries."""
    till = tills.till_of(session, event)
    closed_at = till.closed_at if till is not None else None
    close_out_row = close_out_of(session, event)
    titles = title_figures(session, event)
    report = EventReport(
        event=event,
        close_out=close_out_row,
        closed_at=closed_at,
        titles=titles,
        takings=title_takings(session, event),
        money=money_rows(session, event),
        subscriptions=subscription_rows(session, event),
        cash=cash_rows(session, event, close_out_row if closed_at else None),
        outreach=outreach(session, event),
        qr_codes=qr_codes_of(session, event),
        staff=staff_rows(session, event),
        late_sales=sales_late.late_sales(session, event),
    )
    report.totals = {name: sum(getattr(t, name) for t in titles) for name in COLUMNS}
    return report
