"""The stall sale screen (works without JavaScript), its sync API and its service worker."""

import logging
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import selectinload

from stallapp.accounts.models import Group
from stallapp.database import begin_write, utcnow
from stallapp.errors import EventClosed, StallError
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.money import format_money
from stallapp.permissions import (
    get_in_group_or_404,
    login_required,
    member_required,
    organiser_required,
)
from stallapp.sales import services
from stallapp.sales.forms import TillSettingsForm
from stallapp.sales.models import PaymentMethod, Sale, SaleKind
from stallapp.stock import services as stock
from stallapp.stock.models import Place

bp = Blueprint("sales", __name__)
log = logging.getLogger(__name__)

SERVICE_WORKER = Path(__file__).resolve().parent.parent.parent / "static" / "js" / "sale-sw.js"
PAYMENT_LABELS = {
    PaymentMethod.CASH: _l("Cash"),
    PaymentMethod.CARD: _l("Card"),
    PaymentMethod.OTHER: _l("Other"),
}
KIND_LABELS = {
    SaleKind.SALE: _l("Sales"),
    SaleKind.DONATION: _l("Donations"),
    SaleKind.SUBSCRIPTION: _l("Subscriptions"),
}


@bp.before_request
def start_writing() -> None:
    """Take SQLite's write lock before a POST's first read (see begin_write)."""
    if request.method == "POST":
        begin_write(db.session())


def _seller() -> services.Seller:
    return services.Seller(user=current_user, role=g.membership.role)


def _sale_event(group: Group, event_id: int) -> Event:
    """Load the event of the group the sale screen is for (404 for another group's)."""
    return get_in_group_or_404(Event, event_id, group)


@bp.route("/groups/<group_slug>/sell")
@member_required
def events(group: Group):
    """List the group's current and coming events to pick a sale screen."""
    since = utcnow() - timedelta(days=3)
    upcoming = db.session.scalars(
        sa.select(Event)
        .where(Event.group_id == group.id, Event.ends_at >= since)
        .order_by(Event.starts_at)
        .limit(30)
    ).all()
    return render_template("sales/events.html", group=group, events=upcoming)


def _screen_context(group: Group, event: Event) -> dict:
    till = services.till_of(db.session, event) or services.default_till(event)
    levels = stock.event_levels(db.session, event)
    publications = stock.publications_of(db.session, group)
    packed = [p for p in publications if p.id in levels]
    others = [p for p in publications if p.id not in levels and p.active]
    offers = stock.subscription_offers_of(db.session, group, active_only=True)
    recent = services.recent_sales(db.session, event)
    seller = _seller()
    now = utcnow()
    currencies = sorted(
        {till.main_currency}
        | {price.currency for p in publications for price in p.prices}
        | {price.currency for offer in offers for price in offer.prices}
    )
    return {
        "group": group,
        "event": event,
        "till": till,
        "levels": levels,
        "packed": packed,
        "others": others,
        "offers": offers,
        "recent": recent,
        "operation_ids": services.operation_ids(db.session, recent),
        "undoable": {sale.id for sale in recent if services.may_undo(sale, seller, now)},
        "totals": _totals_rows(event),
        "currencies": currencies,
        "payment_labels": PAYMENT_LABELS,
        "kind_labels": KIND_LABELS,
        "new_id": lambda: str(uuid.uuid4()),
        "describe": services.describe,
        "Place": Place,
        "consent_text": services.subscriber_consent_text(),
        "closed": till.closed_at is not None,
    }


@bp.route("/groups/<group_slug>/sell/<int:event_id>")
@member_required
def screen(group: Group, event_id: int):
    """Show the sale screen: a big button per title packed for the event."""
    event = _sale_event(group, event_id)
    return render_template(
        "sales/screen.html", **_screen_context(group, event), errors={}, posted={}
    )


def _int_field(name: str):
    value = request.form.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as error:
        raise services.BadOperation(_("%(field)s must be a whole number.", field=name)) from error


def _form_operation(default_currency: str) -> services.Operation:
    """Build an operation from one of the sale screen's forms."""
    form = request.form
    raw = {
        "id": form.get("operation_id", ""),
        "type": form.get("type", ""),
        "currency": form.get("currency") or None,
        "amount": form.get("amount") or None,
        "payment_method": form.get("payment_method") or None,
    }
    if raw["type"] in ("sale", "giveaway"):
        raw["publication_id"] = _int_field("publication_id")
        raw["quantity"] = _int_field("quantity") or 1
    if raw["type"] == "subscription":
        raw["offer_id"] = _int_field("offer_id")
        if form.get("email", "").strip():
            raw["subscriber"] = {
                "name": form.get("name", ""),
                "email": form.get("email", ""),
                "consent": form.get("consent") == "y",
            }
    return services.parse_operation(raw, default_currency)


@bp.route("/groups/<group_slug>/sell/<int:event_id>/record", methods=["POST"])
@member_required
def record(group: Group, event_id: int):
    """Record one sale, give-away, donation or subscription from the sale screen's forms."""
    event = _sale_event(group, event_id)
    if not EmptyForm().validate_on_submit():
        flash(_("The page had expired. Please tap again."), "error")
        return redirect(url_for("sales.screen", group_slug=group.slug, event_id=event.id))
    till = services.till_of(db.session, event) or services.default_till(event)
    kind = request.form.get("type", "")
    try:
        operation = _form_operation(till.main_currency)
        [result] = services.record_operations(db.session, event, _seller(), [operation])
    except services.BadOperation as error:
        db.session.rollback()
        context = _screen_context(group, event)
        return (
            render_template(
                "sales/screen.html", **context, errors={kind: error.message}, posted=request.form
            ),
            400,
        )
    except StallError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("sales.screen", group_slug=group.slug, event_id=event.id))
    db.session.commit()
    _flash_result(result)
    return redirect(url_for("sales.screen", group_slug=group.slug, event_id=event.id))


def _flash_result(result: dict) -> None:
    if result["status"] != "done":
        flash(result["message"], "error")
        return
    flash(result["message"], "success")
    if result.get("warning"):
        flash(result["warning"], "info")


@bp.route("/groups/<group_slug>/sell/<int:event_id>/sales/<int:sale_id>/undo", methods=["POST"])
@member_required
def undo(group: Group, event_id: int, sale_id: int):
    """Undo a sale by recording its reversal."""
    event = _sale_event(group, event_id)
    sale = db.session.scalar(
        sa.select(Sale)
        .where(Sale.id == sale_id, Sale.event_id == event.id)
        .options(selectinload(Sale.lines))
    )
    if sale is None:
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            if services.lock_till(db.session, event).closed_at is not None:
                raise EventClosed(_("This event is closed out: no more sales can be recorded."))
            services.undo_sale(db.session, sale, _seller(), utcnow())
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Undone: %(what)s", what=services.describe(sale)), "success")
    return redirect(url_for("sales.screen", group_slug=group.slug, event_id=event.id))


def _json_error(status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), status


@bp.route("/groups/<group_slug>/sell/<int:event_id>/sync", methods=["POST"])
@member_required
def sync(group: Group, event_id: int):
    """Record a batch of operations queued on a phone, each exactly once (JSON in and out)."""
    event = _sale_event(group, event_id)
    body = request.get_json(silent=True)
    if body is None:
        return _json_error(400, _("The request must be JSON."))
    till = services.till_of(db.session, event) or services.default_till(event)
    try:
        operations = services.parse_batch(body, till.main_currency)
    except services.BadOperation as error:
        return _json_error(400, error.message, operation=error.operation_id)
    try:
        results = services.record_operations(db.session, event, _seller(), operations)
        db.session.flush()
    except services.OperationConflict as error:
        db.session.rollback()
        return _json_error(409, error.message, operations=error.operation_ids)
    except EventClosed as error:
        db.session.rollback()
        return _json_error(403, error.message, code=error.code)
    except sa.exc.IntegrityError:
        # The same operation id arrived at the same moment for another event's till.
        db.session.rollback()
        return _json_error(409, _("These operations were already recorded with other contents."))
    db.session.commit()
    return jsonify({"results": results, **_state(event)})


def _totals_rows(event: Event) -> list[tuple[str, str]]:
    """The event's running totals as (label, value) lines: copies, then money per currency."""
    items = services.items_out(db.session, event)
    rows = [
        (_("Copies sold"), str(items[Place.SOLD])),
        (_("Copies given away"), str(items[Place.GIVEN_AWAY])),
    ]
    for total in services.money_totals(db.session, event):
        label = f"{KIND_LABELS[total.kind]} · {PAYMENT_LABELS[total.payment_method]}"
        rows.append((label, format_money(total.amount, total.currency)))
    return rows


def _state(event: Event) -> dict:
    """What the sale screen refreshes after a sync: copies left and the totals."""
    return {
        "levels": {str(pid): left for pid, left in stock.event_levels(db.session, event).items()},
        "totals": _totals_rows(event),
    }


@bp.route("/sale/csrf-token")
@login_required
def csrf_token():
    """Give the sale screen's script a fresh CSRF token before it syncs."""
    return jsonify({"csrf_token": generate_csrf()})


@bp.route("/sale-sw.js")
def service_worker():
    """Serve the sale screen's service worker from the site root so it may control pages."""
    response = Response(SERVICE_WORKER.read_bytes(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/groups/<group_slug>/sell/<int:event_id>/settings", methods=["GET", "POST"])
@organiser_required
def settings(group: Group, event_id: int):
    """Set the event's main currency and default payment method."""
    event = _sale_event(group, event_id)
    till = services.till_of(db.session, event) or services.default_till(event)
    form = TillSettingsForm(
        main_currency=till.main_currency, payment_method=till.default_payment_method.value
    )
    if form.validate_on_submit():
        services.save_till_settings(
            db.session, event, form.main_currency.data, PaymentMethod(form.payment_method.data)
        )
        db.session.commit()
        flash(_("Sale settings saved."), "success")
        return redirect(url_for("sales.screen", group_slug=group.slug, event_id=event.id))
    return render_template("sales/settings.html", group=group, event=event, form=form)


@bp.app_template_filter("sale_event_time")
def sale_event_time(instant, zone_name: str) -> str:
    """Show a UTC instant in the event's own zone: "Saturday, 19 October 2024, 10:00"."""
    from babel.dates import format_date, format_time
    from flask_babel import get_locale

    from stallapp.times import utc_to_local

    local = utc_to_local(instant, zone_name)
    locale = get_locale()
    return (
        f"{format_date(local, 'full', locale=locale)}, {format_time(local, 'short', locale=locale)}"
    )
