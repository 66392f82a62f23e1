"""Close-out of an event, its report, and the group's reports over a date range (their CSV
downloads are in :mod:`stallapp.reports.exports`)."""

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from stallapp.accounts.models import Group
from stallapp.errors import StallError
from stallapp.events.models import Event, EventKind
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.money import format_money
from stallapp.permissions import get_in_group_or_404, organiser_required
from stallapp.reports import closeout, exports
from stallapp.reports import event_report as event_reports
from stallapp.reports import group_report as group_reports
from stallapp.reports.charts import bar_chart
from stallapp.reports.figures import title_figures
from stallapp.reports.forms import (
    RejectLateSaleForm,
    ReopenForm,
    close_out_form,
    requested_period,
)
from stallapp.sales import late as sales_late
from stallapp.sales import till as tills
from stallapp.sales.models import LateSale, LateSaleStatus
from stallapp.stock import services as stock
from stallapp.stock.models import Store

bp = Blueprint("reports", __name__)
exports.register(bp)


@bp.route("/healthz")
def healthz():
    """Answer "ok": the trivial endpoint the benchmarks compare the reports with."""
    return Response("ok", mimetype="text/plain")


# Close-out ----------------------------------------------------------------------------------


@bp.route("/groups/<group_slug>/events/<int:event_id>/close-out", methods=["GET", "POST"])
@organiser_required
def close_out(group: Group, event_id: int):
    """Count what came back and the cash, and close the event out."""
    event = get_in_group_or_404(Event, event_id, group)
    if not closeout.close_out_open(event):
        # Not offered before the event starts; the address explains rather than fails.
        return render_template("reports/close_out_not_yet.html", group=group, event=event)
    if tills.is_closed(db.session, event):
        flash(_("This event is already closed out. Reopen it to count again."), "info")
        return redirect(url_for("reports.event_report", group_slug=group.slug, event_id=event.id))
    figures = title_figures(db.session, event)
    stores = stock.stores_of(db.session, group)
    taken = closeout.cash_taken(db.session, event)
    form = close_out_form(figures, closeout.cash_currencies(db.session, event), stores, taken)
    if not form.is_submitted():
        form.store.data = closeout.packing_store_id(db.session, event)
    if stores and form.validate_on_submit():
        store = get_in_group_or_404(Store, form.store.data, group)
        counts = {figure.publication_id: field.data for figure, field in form.count_fields}
        cash = [
            closeout.CashEntry(currency, float_field.minor, counted.minor, note.data or "")
            for currency, float_field, counted, note in form.cash_fields
        ]
        try:
            closeout.close_out(
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
        **_late_sale_context(event, sales_late.late_sales(db.session, event)),
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
        closeout.reopen(db.session, event, current_user, form.reason.data)
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
            closeout.accept_late_sale(db.session, event, late, current_user)
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
            accepted = closeout.accept_held_late_sales(db.session, event, current_user)
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
        sales_late.reject_late_sale(db.session, event, late, current_user, form.note.data)
    except StallError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The late sale is rejected and stays out of the books."), "success")
    return _back_to_report(group, event)


def _late_sale_context(event: Event, lines: list) -> dict:
    """What the late-sales list needs: its lines and a reject form per held one (the accept
    buttons carry their CSRF token through the ``post_button`` macro)."""
    return {
        "late_sales": lines,
        "reject_forms": {
            line.late.id: RejectLateSaleForm(prefix=f"reject-{line.late.id}")
            for line in lines
            if line.late.status == LateSaleStatus.HELD
        },
    }


# The event report ---------------------------------------------------------------------------


def _title_chart(report: event_reports.EventReport):
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
    report = event_reports.event_report(db.session, event)
    return render_template(
        "reports/event_report.html",
        group=group,
        event=event,
        report=report,
        chart=_title_chart(report),
        close_out_open=closeout.close_out_open(event),
        log=closeout.close_out_log(db.session, event),
        reopen_form=ReopenForm(),
        **_late_sale_context(event, report.late_sales),
    )


# Group reports ------------------------------------------------------------------------------


def _month_charts(report: group_reports.GroupReport):
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
    form, period = requested_period(group)
    report = group_reports.group_report(db.session, group, period)
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
    )
