"""The reports' CSV downloads: one table of an event's report, or of the group's report over
the chosen dates, each written by :func:`stallapp.csv_export.csv_response`.

Money goes out as a decimal number in the currency's major units (``-0.50``), counts as whole
numbers, and times as local ISO 8601 with their offset, so a spreadsheet or a script reads them
as they are.
"""

from collections.abc import Callable, Sequence
from decimal import Decimal

from flask import Blueprint, abort

from stallapp.accounts.models import Group
from stallapp.csv_export import csv_response
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.money import to_decimal
from stallapp.permissions import get_in_group_or_404, organiser_required
from stallapp.reports import event_report as event_reports
from stallapp.reports import group_report as group_reports
from stallapp.reports.forms import requested_period
from stallapp.times import utc_to_local

#: A table's header and its rows.
Table = tuple[list[str], list[Sequence[object]]]


def register(bp: Blueprint) -> None:
    """Add the CSV downloads to the reports' blueprint."""
    bp.add_url_rule(
        "/groups/<group_slug>/reports/events/<int:event_id>/<table>.csv", view_func=event_csv
    )
    bp.add_url_rule("/groups/<group_slug>/reports/<table>.csv", view_func=group_csv)


def _money(amount: int | None, currency: str) -> Decimal | None:
    return None if amount is None else to_decimal(amount, currency)


def _hours(minutes: int) -> Decimal:
    return round(Decimal(minutes) / 60, 2)


def _event_tables(report: event_reports.EventReport) -> dict[str, Callable[[], Table]]:
    """Each table of the event report, built when asked for."""
    o = report.outreach
    return {
        "titles": lambda: (
            ["title", "packed", "sold", "given_away", "returned", "unaccounted", "left"],
            [
                (t.title, t.packed, t.sold, t.given_away, t.returned, t.unaccounted, t.left)
                for t in report.titles
            ],
        ),
        "takings": lambda: (
            ["title", "currency", "copies_sold", "amount"],
            [(t.title, t.currency, t.copies, _money(t.amount, t.currency)) for t in report.takings],
        ),
        "money": lambda: (
            ["currency", "kind", "payment_method", "count", "amount"],
            [
                (
                    m.currency,
                    m.kind.value,
                    m.payment_method.value,
                    m.count,
                    _money(m.amount, m.currency),
                )
                for m in report.money
            ],
        ),
        "subscriptions": lambda: (
            ["offer", "currency", "count", "amount"],
            [
                (s.name, s.currency, s.count, _money(s.amount, s.currency))
                for s in report.subscriptions
            ],
        ),
        "cash": lambda: (
            ["currency", "float", "cash_taken", "expected", "counted", "difference", "note"],
            [
                (
                    c.currency,
                    _money(c.float_amount, c.currency),
                    _money(c.taken, c.currency),
                    _money(c.expected, c.currency),
                    _money(c.counted, c.currency),
                    _money(c.difference, c.currency),
                    c.note,
                )
                for c in report.cash
            ],
        ),
        "staff": lambda: (
            ["member", "shifts", "hours"],
            [(s.name, s.shifts, _hours(s.minutes)) for s in report.staff],
        ),
        "outreach": lambda: (
            ["sign_ups", "sign_ups_by_qr_code", "registrations", "qr_scans"],
            [(o.sign_ups, o.sign_ups_by_qr, o.registrations, o.qr_scans)],
        ),
    }


@organiser_required
def event_csv(group: Group, event_id: int, table: str):
    """Download one table of an event's report as CSV."""
    event = get_in_group_or_404(Event, event_id, group)
    build = _event_tables(event_reports.event_report(db.session, event)).get(table)
    if build is None:
        abort(404)
    header, rows = build()
    return csv_response(f"event-{event.id}-{table}.csv", header, rows)


def _group_tables(group: Group, period: group_reports.Period) -> dict[str, Callable[[], Table]]:
    """Each table of the group report over ``period``, queried when asked for."""
    session = db.session
    return {
        "titles": lambda: (
            ["title", "sold", "given_away"],
            [
                (t.title, t.sold, t.given_away)
                for t in group_reports.sales_by_title(session, group, period)
            ],
        ),
        "takings": lambda: (
            ["title", "currency", "amount"],
            [
                (t.title, t.currency, _money(t.amount, t.currency))
                for t in group_reports.money_by_title(session, group, period)
            ],
        ),
        "kinds": lambda: (
            ["title", "event_kind", "sold", "given_away"],
            [
                (k.title, k.event_kind.value, k.sold, k.given_away)
                for k in group_reports.sales_by_event_kind(session, group, period)
            ],
        ),
        "months": lambda: (
            ["month", "currency", "sales", "donations", "subscriptions", "total"],
            [
                (
                    m.month,
                    m.currency,
                    _money(m.sales, m.currency),
                    _money(m.donations, m.currency),
                    _money(m.subscriptions, m.currency),
                    _money(m.total, m.currency),
                )
                for m in group_reports.money_by_month(session, group, period)
            ],
        ),
        "events": lambda: (
            ["date", "event", "kind", "closed_out"],
            [
                (utc_to_local(e.starts_at, e.timezone).date(), e.title, e.kind.value, e.closed)
                for e in group_reports.recent_events(session, group, period, limit=None)
            ],
        ),
        "event_money": lambda: (
            ["date", "event", "kind", "currency", "amount"],
            [
                (
                    utc_to_local(e.starts_at, group.timezone).date(),
                    e.title,
                    e.kind.value,
                    e.currency,
                    _money(e.amount, e.currency),
                )
                for e in group_reports.money_by_event(session, group, period)
            ],
        ),
        "stock": lambda: (
            ["title", "store", "copies", "copies_in_all_stores", "reorder_level", "to_reprint"],
            [
                (s.title, s.store, s.copies, s.total, s.reorder_level, s.to_reprint)
                for s in group_reports.stock_on_hand(session, group)
            ],
        ),
        "volunteers": lambda: (
            ["member", "shifts", "hours"],
            [
                (v.name, v.shifts, _hours(v.minutes))
                for v in group_reports.volunteer_hours(session, group, period)
            ],
        ),
        "unfilled": lambda: (
            ["starts_at", "event", "role", "needed", "filled", "missing"],
            [
                (
                    utc_to_local(u.starts_at, u.timezone),
                    u.event_title,
                    u.custom_role or u.role,
                    u.needed,
                    u.filled,
                    u.missing,
                )
                for u in group_reports.unfilled_shifts(session, group, period)
            ],
        ),
    }


@organiser_required
def group_csv(group: Group, table: str):
    """Download one table of the group report over the chosen dates as CSV."""
    _form, period = requested_period(group)
    build = _group_tables(group, period).get(table)
    if build is None:
        abort(404)
    header, rows = build()
    return csv_response(f"{group.slug}-{table}-{period.first}-{period.last}.csv", header, rows)
