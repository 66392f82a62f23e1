"""Close-out of an event, its report, the group's reports over a date range, and CSV exports."""

import csv
import io
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from stallapp.accounts.models import Group
from stallapp.database import utcnow
from stallapp.errors import StallError
from stallapp.events.models import Event, EventKind
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.money import format_money, to_decimal
from stallapp.permissions import get_in_group_or_404, organiser_required
from stallapp.reports import services
from stallapp.reports.charts import bar_chart
from stallapp.reports.forms import (
    PeriodForm,
    RejectLateSaleForm,
    ReopenForm,
    close_out_form,
    period_from,
)
from stallapp.sales import services as sales_services
from stallapp.sales.models import LateSale, LateSaleStatus, PaymentMethod, SaleKind
from stallapp.stock import services as stock
from stallapp.stock.models import Store
from stallapp.times import utc_to_local

bp = Blueprint("reports", __name__)

KIND_LABELS = {
    SaleKind.SALE: _l("Sales"),
    SaleKind.GIVEAWAY: _l("Give-aways"),
    SaleKind.DONATION: _l("Donations"),
    SaleKind.SUBSCRIPTION: _l("Subscriptions"),
}
PAYMENT_LABELS = {
    PaymentMethod.CASH: _l("Cash"),
    PaymentMethod.CARD: _l("Card"),
    PaymentMethod.OTHER: _l("Other"),
}
EVENT_KIND_LABELS = {
    EventKind.STALL: _l("Stall"),
    EventKind.PUBLIC_MEETING: _l("Public meeting"),
    EventKind.ONLINE_MEETING: _l("Online meeting"),
    EventKind.DISCUSSION: _l("Discussion"),
    EventKind.INTERVENTION: _l("Intervention"),
    EventKind.OTHER: _l("Other"),
}


@bp.route("/healthz")
def healthz():
    """Answer "ok": the trivial endpoint the benchmarks compare the reports with."""
    return Response("ok", mimetype="text/plain")


def local_moment(instant, zone_name: str) -> str:
    """Show a UTC instant in ``zone_name``, short: "19 Oct 2024, 17:32"."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime
    from flask_babel import get_locale

    return format_datetime(instant, "medium", tzinfo=ZoneInfo(zone_name), locale=get_locale())


def local_day(instant, zone_name: str) -> str:
    """Show the local day of a UTC instant: "19 Oct 2024"."""
    from flask_babel import format_date

    return format_date(utc_to_local(instant, zone_name).date(), "medium")


def format_date_range(period: services.Period) -> str:
    """Say the report's dates: "1 Nov 2025 – 25 Nov 2026"."""
    from flask_babel import format_date

    return f"{format_date(period.first, 'medium')} – {format_date(period.last, 'medium')}"


def _labels() -> dict:
    from stallapp.rota.services import ROLE_LABELS

    return {
        "role_labels": {role.value: label for role, label in ROLE_LABELS.items()},
        "format_date_range": format_date_range,
        "local_moment": local_moment,
        "local_day": local_day,
        "kind_labels": KIND_LABELS,
        "payment_labels": PAYMENT_LABELS,
        "event_kind_labels": EVENT_KIND_LABELS,
    }


# Close-out ----------------------------------------------------------------------------------


@bp.route("/groups/<group_slug>/events/<int:event_id>/close-out", methods=["GET", "POST"])
@organiser_required
def close_out(group: Group, event_id: int):
    """Count what came back and the cash, and close the event out."""
    event = get_in_group_or_404(Event, event_id, group)
    if not services.close_out_open(event):
        # Not offered before the event starts; the address explains rather than fails.
        return render_template("reports/close_out_not_yet.html", group=group, event=event)
    existing = services.close_out_of(db.session, event)
    if existing is not None and existing.is_closed:
        flash(_("This event is already closed out. Reopen it to count again."), "info")
        return redirect(url_for("reports.event_report", group_slug=group.slug, event_id=event.id))
    figures = services.title_figures(db.session, event)
    stores = stock.stores_of(db.session, group)
    taken = services.cash_taken(db.session, event)
    form = close_out_form(figures, services.cash_currencies(db.session, event), stores, taken)
    if not form.is_submitted():
        form.store.data = services.packing_store_id(db.session, event)
    if stores and form.validate_on_submit():
        store = get_in_group_or_404(Store, form.store.data, group)
        counts = {figure.publication_id: field.data for figure, field in form.count_fields}
        cash = [
            services.CashEntry(currency, float_field.minor, counted.minor, note.data or "")
            for currency, float_field, counted, note in form.cash_fields
        ]
        try:
            services.close_out(
                db.session, event, current_user, store, counts, cash, form.note.data or ""
            )
        except StallError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(_("%(event)s is closed out.", event=event.title), "success")
            return redirect(
                url_for("reports.event_report", group_slug=group.slug, event_id=event.id)
            )
    return render_template(
        "reports/close_out.html",
        group=group,
        event=event,
        form=form,
        stores=stores,
        **_late_sale_context(event, sales_services.late_sales(db.session, event)),
        **_labels(),
    )


@bp.route("/groups/<group_slug>/events/<int:event_id>/reopen", methods=["POST"])
@organiser_required
def reopen(group: Group, event_id: int):
    """Reopen a closed-out event for sales, undoing its count; the reopen is logged."""
    event = get_in_group_or_404(Event, event_id, group)
    form = ReopenForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("reports.event_report", group_slug=group.slug, event_id=event.id))
    try:
        services.reopen(db.session, event, current_user, form.reason.data)
    except StallError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("%(event)s is open for sales again.", event=event.title), "success")
    return redirect(url_for("reports.event_report", group_slug=group.slug, event_id=event.id))


# Late sales ---------------------------------------------------------------------------------


def _late_sale(event: Event, late_sale_id: int) -> LateSale:
    late = db.session.get(LateSale, late_sale_id)
    if late is None or late.event_id != event.id:
        abort(404)
    return late


def _back_to_report(group: Group, event: Event):
    return redirect(url_for("reports.event_report", group_slug=group.slug, event_id=event.id))


@bp.route(
    "/groups/<group_slug>/events/<int:event_id>/late-sales/<int:late_sale_id>/accept",
    methods=["POST"],
)
@organiser_required
def accept_late_sale(group: Group, event_id: int, late_sale_id: int):
    """Book a sale a phone synced after the close-out, squaring the count with it."""
    event = get_in_group_or_404(Event, event_id, group)
    late = _late_sale(event, late_sale_id)
    if EmptyForm().validate_on_submit():
        try:
            services.accept_late_sale(db.session, event, late, current_user)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("The late sale is in the books."), "success")
    return _back_to_report(group, event)


@bp.route("/groups/<group_slug>/events/<int:event_id>/late-sales/accept", methods=["POST"])
@organiser_required
def accept_late_sales(group: Group, event_id: int):
    """Book every held late sale of the event, oldest first."""
    event = get_in_group_or_404(Event, event_id, group)
    if EmptyForm().validate_on_submit():
        try:
            accepted = services.accept_held_late_sales(db.session, event, current_user)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                ngettext(
                    "%(num)d late sale is in the books.",
                    "%(num)d late sales are in the books.",
                    accepted,
                ),
                "success",
            )
    return _back_to_report(group, event)


@bp.route(
    "/groups/<group_slug>/events/<int:event_id>/late-sales/<int:late_sale_id>/reject",
    methods=["POST"],
)
@organiser_required
def reject_late_sale(group: Group, event_id: int, late_sale_id: int):
    """Leave a late sale out of the books, with a note the member's phone is told."""
    event = get_in_group_or_404(Event, event_id, group)
    late = _late_sale(event, late_sale_id)
    form = RejectLateSaleForm(prefix=f"reject-{late.id}")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _back_to_report(group, event)
    try:
        services.reject_late_sale(db.session, event, late, current_user, form.note.data)
    except StallError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The late sale is rejected and stays out of the books."), "success")
    return _back_to_report(group, event)


def _late_sale_context(event: Event, lines: list) -> dict:
    """What the late-sales list needs: its lines and a reject form per held one."""
    return {
        "late_sales": lines,
        "reject_forms": {
            line.late.id: RejectLateSaleForm(prefix=f"reject-{line.late.id}")
            for line in lines
            if line.late.status == LateSaleStatus.HELD
        },
        "accept_form": EmptyForm(),
    }


# The event report ---------------------------------------------------------------------------


def _title_chart(report: services.EventReport):
    rows = []
    for figure in report.titles:
        if figure.is_free:
            if figure.given_away:
                rows.append(
                    (
                        figure.title,
                        figure.given_away,
                        _("%(n)d given", n=figure.given_away),
                        "bar-free",
                    )
                )
        elif figure.sold:
            rows.append((figure.title, figure.sold, _("%(n)d sold", n=figure.sold), "bar-sold"))
    return bar_chart(_("Copies sold and given away, by title"), rows)


@bp.route("/groups/<group_slug>/reports/events/<int:event_id>")
@organiser_required
def event_report(group: Group, event_id: int):
    """Show an event's report: stock per title, money, cash, outreach and staffing."""
    event = get_in_group_or_404(Event, event_id, group)
    report = services.event_report(db.session, event)
    return render_template(
        "reports/event_report.html",
        group=group,
        event=event,
        report=report,
        chart=_title_chart(report),
        close_out_open=services.close_out_open(event),
        log=services.close_out_log(db.session, event),
        reopen_form=ReopenForm(),
        **_late_sale_context(event, report.late_sales),
        **_labels(),
    )


# CSV ----------------------------------------------------------------------------------------


def _cell(value) -> str:
    """Keep a spreadsheet from running typed text as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv(filename: str, header: list[str], rows) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return Response(
        buffer.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


def _money(amount: int, currency: str) -> str:
    return str(to_decimal(amount, currency))


def _event_table(report: services.EventReport, table: str):
    """Return ``(header, rows)`` of one table of the event report, or None."""
    if table == "titles":
        return (
            ["title", "packed", "sold", "given_away", "returned", "unaccounted", "left"],
            [
                (t.title, t.packed, t.sold, t.given_away, t.returned, t.unaccounted, t.left)
                for t in report.titles
            ],
        )
    if table == "takings":
        return (
            ["title", "currency", "copies_sold", "amount"],
            [(t.title, t.currency, t.copies, _money(t.amount, t.currency)) for t in report.takings],
        )
    if table == "money":
        return (
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
        )
    if table == "subscriptions":
        return (
            ["offer", "currency", "count", "amount"],
            [
                (s.name, s.currency, s.count, _money(s.amount, s.currency))
                for s in report.subscriptions
            ],
        )
    if table == "cash":
        return (
            ["currency", "float", "cash_taken", "expected", "counted", "difference", "note"],
            [
                (
                    c.currency,
                    _money(c.float_amount, c.currency),
                    _money(c.taken, c.currency),
                    _money(c.expected, c.currency),
                    "" if c.counted is None else _money(c.counted, c.currency),
                    "" if c.difference is None else _money(c.difference, c.currency),
                    c.note,
                )
                for c in report.cash
            ],
        )
    if table == "staff":
        return (
            ["member", "shifts", "hours"],
            [(s.name, s.shifts, f"{s.minutes / 60:.2f}") for s in report.staff],
        )
    if table == "outreach":
        o = report.outreach
        return (
            ["sign_ups", "sign_ups_by_qr_code", "registrations", "qr_scans"],
            [(o.sign_ups, o.sign_ups_by_qr, o.registrations, o.qr_scans)],
        )
    return None


@bp.route("/groups/<group_slug>/reports/events/<int:event_id>/<table>.csv")
@organiser_required
def event_csv(group: Group, event_id: int, table: str):
    """Download one table of an event's report as CSV."""
    event = get_in_group_or_404(Event, event_id, group)
    found = _event_table(services.event_report(db.session, event), table)
    if found is None:
        abort(404)
    header, rows = found
    return _csv(f"event-{event.id}-{table}.csv", header, rows)


# Group reports ------------------------------------------------------------------------------


def _period(group: Group) -> tuple[PeriodForm, services.Period]:
    today = utc_to_local(utcnow(), group.timezone).date()
    default = services.default_period(today)
    form = PeriodForm(request.args)
    if request.args:
        form.validate()
    else:
        form.first.data, form.last.data = default.first, default.last
    return form, period_from(form, default)


def _month_charts(report: services.GroupReport):
    """Return ``(chart, months)`` per currency: money is never added across currencies."""
    charts = []
    for currency in sorted({row.currency for row in report.months}):
        months = [row for row in report.months if row.currency == currency]
        rows = [
            (_month_name(row.month), row.total, format_money(row.total, currency), "bar-sold")
            for row in months
        ]
        charts.append(
            (bar_chart(_("Money per month, %(currency)s", currency=currency), rows), months)
        )
    return charts


def _month_name(month: str) -> str:
    from flask_babel import format_date

    year, number = month.split("-")
    return format_date(date(int(year), int(number), 1), "MMMM y")


@bp.route("/groups/<group_slug>/reports")
@organiser_required
def group_report(group: Group):
    """Show the group's year at a glance: titles by kind of event, money per month, stock,
    volunteers and unfilled shifts."""
    form, period = _period(group)
    report = services.group_report(db.session, group, period)
    present = {row.event_kind for row in report.by_kind}
    kinds = [kind for kind in EventKind if kind in present]
    by_kind: dict[str, dict] = {}
    for row in report.by_kind:
        by_kind.setdefault(row.title, {})[row.event_kind] = row.sold + row.given_away
    return render_template(
        "reports/group_report.html",
        group=group,
        form=form,
        report=report,
        kinds=kinds,
        by_kind=by_kind,
        month_charts=_month_charts(report),
        month_name=_month_name,
        period_args={"first": period.first.isoformat(), "last": period.last.isoformat()},
        **_labels(),
    )


def _group_table(group: Group, period: services.Period, table: str):
    """Return ``(header, rows)`` of one table of the group report, or None."""
    session = db.session
    if table == "titles":
        return (
            ["title", "sold", "given_away"],
            [
                (t.title, t.sold, t.given_away)
                for t in services.sales_by_title(session, group, period)
            ],
        )
    if table == "takings":
        return (
            ["title", "currency", "amount"],
            [
                (t.title, t.currency, _money(t.amount, t.currency))
                for t in services.money_by_title(session, group, period)
            ],
        )
    if table == "kinds":
        return (
            ["title", "event_kind", "sold", "given_away"],
            [
                (k.title, k.event_kind.value, k.sold, k.given_away)
                for k in services.sales_by_event_kind(session, group, period)
            ],
        )
    if table == "months":
        return (
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
                for m in services.money_by_month(session, group, period)
            ],
        )
    if table == "events":
        return (
            ["date", "event", "kind", "closed_out"],
            [
                (
                    utc_to_local(e.starts_at, e.timezone).date().isoformat(),
                    e.title,
                    e.kind.value,
                    "yes" if e.closed else "no",
                )
                for e in services.recent_events(session, group, period, limit=None)
            ],
        )
    if table == "event_money":
        return (
            ["date", "event", "kind", "currency", "amount"],
            [
                (
                    utc_to_local(e.starts_at, group.timezone).date().isoformat(),
                    e.title,
                    e.kind.value,
                    e.currency,
                    _money(e.amount, e.currency),
                )
                for e in services.money_by_event(session, group, period)
            ],
        )
    if table == "stock":
        return (
            ["title", "store", "copies", "copies_in_all_stores", "reorder_level", "to_reprint"],
            [
                (
                    s.title,
                    s.store or "",
                    s.copies,
                    s.total,
                    s.reorder_level,
                    "yes" if s.to_reprint else "no",
                )
                for s in services.stock_on_hand(session, group)
            ],
        )
    if table == "volunteers":
        return (
            ["member", "shifts", "hours"],
            [
                (v.name, v.shifts, f"{v.minutes / 60:.2f}")
                for v in services.volunteer_hours(session, group, period)
            ],
        )
    if table == "unfilled":
        return (
            ["date", "event", "role", "needed", "filled", "missing"],
            [
                (
                    utc_to_local(u.starts_at, u.timezone).strftime("%Y-%m-%d %H:%M"),
                    u.event_title,
                    u.custom_role or u.role,
                    u.needed,
                    u.filled,
                    u.missing,
                )
                for u in services.unfilled_shifts(session, group, period)
            ],
        )
    return None


@bp.route("/groups/<group_slug>/reports/<table>.csv")
@organiser_required
def group_csv(group: Group, table: str):
    """Download one table of the group report over the chosen dates as CSV."""
    _form, period = _period(group)
    found = _group_table(group, period, table)
    if found is None:
        abort(404)
    header, rows = found
    return _csv(f"{group.slug}-{table}-{period.first}-{period.last}.csv", header, rows)
