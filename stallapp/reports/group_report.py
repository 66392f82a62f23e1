"""The group's report over a period: titles sold per kind of event, money per month and per
event, events held and closed out, stock on hand, volunteer hours and unfilled shifts.

Closed events are read from their summaries (see :mod:`stallapp.reports.summaries`) and open ones
added up live, in one union, so a year's report costs in events rather than sale lines.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group, User
from stallapp.database import utcnow
from stallapp.events.models import Event, EventKind, EventStatus
from stallapp.reports.event_report import StaffRow, staffing
from stallapp.reports.models import EventMoneySummary, EventTitleSummary
from stallapp.reports.sql import TITLE_GROUP, minutes_between, year_month
from stallapp.reports.summaries import closed_now, line_sums, money_sums
from stallapp.rota.models import Assignment, Shift
from stallapp.sales.models import EventTill, Sale, SaleKind
from stallapp.stock import services as stock
from stallapp.stock.lookups import title_label
from stallapp.stock.models import Place, Publication, Store
from stallapp.times import local_day_start


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last`` inclusive, in the group's time zone."""

    first: date
    last: date

    def bounds(self, zone: str) -> tuple[datetime, datetime]:
        """Return the UTC instants ``[start, end)`` of the period in ``zone``."""
        return local_day_start(self.first, zone), local_day_start(
            self.last + timedelta(days=1), zone
        )


def default_period(today: date) -> Period:
    """The twelve months up to today."""
    return Period(date(today.year - 1, today.month, 1), today)


def _events_in(group: Group, period: Period) -> sa.Select:
    start, end = period.bounds(group.timezone)
    return sa.select(Event.id).where(
        Event.group_id == group.id,
        Event.starts_at >= start,
        Event.starts_at < end,
        Event.status != EventStatus.CANCELLED,
    )


@dataclass
class TitleSales:
    publication_id: int
    title: str
    sold: int
    given_away: int


@dataclass
class TitleMoney:
    publication_id: int
    title: str
    currency: str
    amount: int


@dataclass
class KindSales:
    title: str
    event_kind: EventKind
    sold: int
    given_away: int


@dataclass
class TitleBreakdown:
    """What the period's sale lines say per title: totals, money per currency, and copies per
    kind of event — from one pass over the lines."""

    titles: list[TitleSales]
    money: list[TitleMoney]
    by_kind: list[KindSales]


def _title_sources(group: Group, period: Period):
    """The period's title sums, one row per event, title and currency at most: the summaries of
    closed events and the live sale lines of open ones, in one union (one snapshot)."""
    events = _events_in(group, period)
    summed = sa.select(
        EventTitleSummary.event_id,
        EventTitleSummary.publication_id,
        EventTitleSummary.currency,
        EventTitleSummary.sold,
        EventTitleSummary.given_away,
        EventTitleSummary.amount,
    ).where(EventTitleSummary.event_id.in_(events))
    live = line_sums().where(Sale.event_id.in_(events.where(~closed_now(Event.id))))
    return sa.union_all(summed, live).subquery()


def title_breakdown(session: Session, group: Group, period: Period) -> TitleBreakdown:
    """Return sales per title, per title and currency, and per title and kind of event.

    One ``GROUP BY`` over the period's title sums (summaries of closed events, sale lines of
    open ones) by title, kind of event and currency; window sums over those groups give the
    per-title and per-currency totals, so the database does all the adding in one pass.
    """
    rows = _title_sources(group, period)
    sold = sa.func.sum(rows.c.sold)
    given = sa.func.sum(rows.c.given_away)
    taken = sa.func.sum(rows.c.amount)
    per_title = {"partition_by": Publication.id}
    title_sold = sa.func.sum(sold).over(**per_title)
    title_given = sa.func.sum(given).over(**per_title)
    currency_taken = sa.func.sum(taken).over(partition_by=(Publication.id, rows.c.currency))
    currency_sold = sa.func.sum(sold).over(partition_by=(Publication.id, rows.c.currency))
    kind_sold = sa.func.sum(sold).over(partition_by=(Publication.id, Event.kind))
    kind_given = sa.func.sum(given).over(partition_by=(Publication.id, Event.kind))
    query = (
        sa.select(
            Publication.id,
            title_label(),
            Event.kind,
            rows.c.currency,
            title_sold,
            title_given,
            currency_sold,
            currency_taken,
            kind_sold,
            kind_given,
        )
        .select_from(rows)
        .join(Event, Event.id == rows.c.event_id)
        .join(Publication, Publication.id == rows.c.publication_id)
        .group_by(Publication.id, *TITLE_GROUP, Event.kind, rows.c.currency)
        .order_by(title_sold.desc(), title_given.desc(), *TITLE_GROUP, Publication.id, Event.kind)
    )
    breakdown = TitleBreakdown([], [], [])
    seen_titles, seen_money, seen_kinds = set(), set(), set()
    for (
        pid,
        title,
        kind,
        currency,
        t_sold,
        t_given,
        c_sold,
        c_taken,
        k_sold,
        k_given,
    ) in session.execute(query):
        if pid not in seen_titles:
            seen_titles.add(pid)
            breakdown.titles.append(TitleSales(pid, title, int(t_sold), int(t_given)))
        if (pid, currency) not in seen_money and c_sold:
            seen_money.add((pid, currency))
            breakdown.money.append(TitleMoney(pid, title, currency, int(c_taken)))
        if (pid, kind) not in seen_kinds:
            seen_kinds.add((pid, kind))
            breakdown.by_kind.append(KindSales(title, EventKind(kind), int(k_sold), int(k_given)))
    breakdown.money.sort(key=lambda row: (row.title, row.publication_id, row.currency))
    breakdown.by_kind.sort(key=lambda row: (row.title, list(EventKind).index(row.event_kind)))
    return breakdown


def sales_by_title(session: Session, group: Group, period: Period) -> list[TitleSales]:
    """Return copies sold and given away per title over the period, most sold first."""
    return title_breakdown(session, group, period).titles


def money_by_title(session: Session, group: Group, period: Period) -> list[TitleMoney]:
    """Return money taken per title and currency over the period."""
    return title_breakdown(session, group, period).money


def sales_by_event_kind(session: Session, group: Group, period: Period) -> list[KindSales]:
    """Return copies sold and given away per title and kind of event (stall, meeting...)."""
    return title_breakdown(session, group, period).by_kind


@dataclass
class MonthMoney:
    month: str
    currency: str
    sales: int
    donations: int
    subscriptions: int
    total: int


def _money_sources(group: Group, period: Period):
    """The period's money, per event, kind and currency: the summaries of closed events and the
    live sales of open ones, in one union."""
    events = _events_in(group, period)
    summed = sa.select(
        EventMoneySummary.event_id,
        EventMoneySummary.currency,
        EventMoneySummary.kind,
        EventMoneySummary.amount,
    ).where(EventMoneySummary.event_id.in_(events))
    live = money_sums().where(Sale.event_id.in_(events.where(~closed_now(Event.id))))
    return sa.union_all(summed, live).subquery()


def money_by_month(session: Session, group: Group, period: Period) -> list[MonthMoney]:
    """Return money per month (of the event's start, UTC) and currency, per kind and in all."""
    month = year_month(Event.starts_at)
    money = _money_sources(group, period)

    def of(kind: SaleKind):
        return sa.func.sum(sa.case((money.c.kind == kind, money.c.amount), else_=0))

    rows = session.execute(
        sa.select(
            month,
            money.c.currency,
            of(SaleKind.SALE),
            of(SaleKind.DONATION),
            of(SaleKind.SUBSCRIPTION),
            sa.func.sum(money.c.amount),
        )
        .select_from(money)
        .join(Event, Event.id == money.c.event_id)
        .group_by(month, money.c.currency)
        .order_by(money.c.currency, month)
    )
    return [MonthMoney(m, c, int(s), int(d), int(sub), int(t)) for m, c, s, d, sub, t in rows]


@dataclass
class KindCount:
    kind: EventKind
    held: int
    closed_out: int


def events_held(session: Session, group: Group, period: Period) -> list[KindCount]:
    """Return how many events of each kind took place in the period, and how many are closed
    out (events still to come are not counted)."""
    closed = sa.case((EventTill.closed_at.is_not(None), 1), else_=0)
    rows = session.execute(
        sa.select(Event.kind, sa.func.count(Event.id), sa.func.sum(closed))
        .outerjoin(EventTill, EventTill.event_id == Event.id)
        .where(Event.id.in_(_events_in(group, period)), Event.starts_at <= utcnow())
        .group_by(Event.kind)
        .order_by(Event.kind)
    )
    return [KindCount(EventKind(kind), int(n), int(c or 0)) for kind, n, c in rows]


@dataclass
class EventLine:
    event_id: int
    title: str
    kind: EventKind
    starts_at: datetime
    timezone: str
    closed: bool


def recent_events(
    session: Session, group: Group, period: Period, limit: int | None = 20
) -> list[EventLine]:
    """Return the period's events that took place, latest first, with whether each is closed."""
    query = (
        sa.select(
            Event.id,
            Event.title,
            Event.kind,
            Event.starts_at,
            Event.timezone,
            EventTill.closed_at.is_not(None),
        )
        .outerjoin(EventTill, EventTill.event_id == Event.id)
        .where(Event.id.in_(_events_in(group, period)), Event.starts_at <= utcnow())
        .order_by(Event.starts_at.desc(), Event.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        EventLine(i, t, EventKind(k), s, z, bool(c)) for i, t, k, s, z, c in session.execute(query)
    ]


@dataclass
class EventMoney:
    event_id: int
    title: str
    starts_at: datetime
    kind: EventKind
    currency: str
    amount: int


def money_by_event(session: Session, group: Group, period: Period) -> list[EventMoney]:
    """Return money taken per event and currency (all kinds, undos subtracted)."""
    money = _money_sources(group, period)
    rows = session.execute(
        sa.select(
            Event.id,
            Event.title,
            Event.starts_at,
            Event.kind,
            money.c.currency,
            sa.func.sum(money.c.amount),
        )
        .select_from(money)
        .join(Event, Event.id == money.c.event_id)
        .group_by(Event.id, Event.title, Event.starts_at, Event.kind, money.c.currency)
        .order_by(Event.starts_at, Event.id, money.c.currency)
    )
    return [EventMoney(i, t, s, EventKind(k), c, int(a)) for i, t, s, k, c, a in rows]


@dataclass
class StockLine:
    publication_id: int
    title: str
    store: str | None
    copies: int
    total: int
    reorder_level: int

    @property
    def to_reprint(self) -> bool:
        return stock.needs_reprint(self.total, self.reorder_level)


def stock_on_hand(session: Session, group: Group) -> list[StockLine]:
    """Return copies per store and title now, titles to reprint first.

    A title with no copies anywhere still shows once (without a store), so it can be reprinted.
    """
    flows = stock._holding_flows(Place.STORE, group.id)
    per_store = (
        sa.select(
            flows.c.holder_id.label("store_id"),
            flows.c.publication_id.label("publication_id"),
            sa.func.sum(flows.c.quantity).label("copies"),
        )
        .group_by(flows.c.holder_id, flows.c.publication_id)
        .subquery()
    )
    per_title = (
        sa.select(
            per_store.c.publication_id.label("publication_id"),
            sa.func.sum(per_store.c.copies).label("total"),
        )
        .group_by(per_store.c.publication_id)
        .subquery()
    )
    total = sa.func.coalesce(per_title.c.total, 0)
    rows = session.execute(
        sa.select(
            Publication.id,
            title_label(),
            Store.name,
            sa.func.coalesce(per_store.c.copies, 0),
            total,
            Publication.reorder_level,
        )
        .outerjoin(per_title, per_title.c.publication_id == Publication.id)
        .outerjoin(
            per_store,
            sa.and_(per_store.c.publication_id == Publication.id, per_store.c.copies != 0),
        )
        .outerjoin(Store, Store.id == per_store.c.store_id)
        .where(Publication.group_id == group.id, Publication.active.is_(True))
        .order_by(
            sa.case((stock.needs_reprint_clause(total, Publication.reorder_level), 0), else_=1),
            *TITLE_GROUP,
            Publication.id,
            Store.name,
        )
    )
    return [
        StockLine(pid, title, store, int(n), int(t), level)
        for pid, title, store, n, t, level in rows
    ]


def volunteer_hours(session: Session, group: Group, period: Period) -> list[StaffRow]:
    """Return shifts and hours per member over the period, most hours first."""
    start, end = period.bounds(group.timezone)
    minutes = sa.func.sum(minutes_between(Shift.starts_at, Shift.ends_at))
    rows = session.execute(
        staffing(
            sa.and_(Shift.group_id == group.id, Shift.starts_at >= start, Shift.starts_at < end)
        ).order_by(minutes.desc(), User.name)
    )
    return [StaffRow(uid, name, int(n), int(m or 0)) for uid, name, n, m in rows]


@dataclass
class UnfilledShift:
    shift_id: int
    event_id: int
    event_title: str
    role: str
    custom_role: str
    starts_at: datetime
    timezone: str
    needed: int
    filled: int

    @property
    def missing(self) -> int:
        return self.needed - self.filled


def _unfilled_query(group: Group, period: Period) -> sa.Select:
    start, end = period.bounds(group.timezone)
    filled = (
        sa.select(sa.func.count(Assignment.id))
        .where(Assignment.shift_id == Shift.id, Assignment.withdrawn_at.is_(None))
        .correlate(Shift)
        .scalar_subquery()
    )
    return (
        sa.select(
            Shift.id,
            Event.id,
            Event.title,
            Shift.role,
            Shift.custom_role,
            Shift.starts_at,
            Event.timezone,
            Shift.people_needed,
            filled.label("filled"),
        )
        .join(Event, Event.id == Shift.event_id)
        .where(
            Shift.group_id == group.id,
            Shift.cancelled_at.is_(None),
            Event.status != EventStatus.CANCELLED,
            Shift.starts_at >= start,
            Shift.starts_at < end,
            filled < Shift.people_needed,
        )
        .order_by(Shift.starts_at, Shift.id)
    )


def unfilled_shifts(
    session: Session, group: Group, period: Period, limit: int | None = None
) -> list[UnfilledShift]:
    """Return the period's shifts with fewer people than needed, soonest first."""
    query = _unfilled_query(group, period)
    if limit is not None:
        query = query.limit(limit)
    return [
        UnfilledShift(sid, eid, title, str(role), custom, starts, zone, needed, int(filled))
        for sid, eid, title, role, custom, starts, zone, needed, filled in session.execute(query)
    ]


def unfilled_totals(session: Session, group: Group, period: Period) -> tuple[int, int]:
    """Return (shifts short, places missing) over the period, in one query."""
    short = _unfilled_query(group, period).order_by(None).subquery()
    row = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(short.c.people_needed - short.c.filled), 0),
        ).select_from(short)
    ).one()
    return int(row[0]), int(row[1])


@dataclass
class GroupReport:
    group: Group
    period: Period
    titles: list[TitleSales]
    title_money: dict[int, list[TitleMoney]]
    by_kind: list[KindSales]
    months: list[MonthMoney]
    held: list[KindCount]
    events: list[EventLine]
    stock: list[StockLine]
    volunteers: list[StaffRow]
    unfilled: list[UnfilledShift]
    unfilled_count: tuple[int, int]

    @property
    def money_by_currency(self) -> dict[str, int]:
        """Return all the money taken in the period per currency."""
        totals: dict[str, int] = {}
        for row in self.months:
            totals[row.currency] = totals.get(row.currency, 0) + row.total
        return dict(sorted(totals.items()))

    @property
    def to_reprint(self) -> list[str]:
        """Return the titles to reprint, once each."""
        return list(dict.fromkeys(line.title for line in self.stock if line.to_reprint))


#: Unfilled shifts listed on the page (the CSV has them all).
UNFILLED_ON_PAGE = 50


def group_report(session: Session, group: Group, period: Period) -> GroupReport:
    """Gather the group's report over ``period``: a fixed number of aggregate queries."""
    breakdown = title_breakdown(session, group, period)
    title_money: dict[int, list[TitleMoney]] = {}
    for row in breakdown.money:
        title_money.setdefault(row.publication_id, []).append(row)
    return GroupReport(
        group=group,
        period=period,
        titles=breakdown.titles,
        title_money=title_money,
        by_kind=breakdown.by_kind,
        months=money_by_month(session, group, period),
        held=events_held(session, group, period),
        events=recent_events(session, group, period),
        stock=stock_on_hand(session, group),
        volunteers=volunteer_hours(session, group, period),
        unfilled=unfilled_shifts(session, group, period, limit=UNFILLED_ON_PAGE),
        unfilled_count=unfilled_totals(session, group, period),
    )
