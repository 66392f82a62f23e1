"""The stall sale screen (works without JavaScript), its sync API and its service worker."""

import logging
import uuid
from datetime import timedelta
from functools import cache
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
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from stallapp.accounts.models import Group
from stallapp.database import utcnow
from stallapp.errors import EventClosed, StallError
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.i18n import regional_locale
from stallapp.inputs import LARGEST_ID, whole_number
from stallapp.money import format_money
from stallapp.permissions import (
    get_in_group_or_404,
    login_required,
    member_required,
    organiser_required,
)
from stallapp.sales import till as tills
from stallapp.sales.display import KIND_LABELS, PAYMENT_LABELS, unpacked_title_options
from stallapp.sales.forms import TillSettingsForm
from stallapp.sales.late import held_count
from stallapp.sales.models import EventTill, PaymentMethod, Sale
from stallapp.sales.operations import (
    BadOperation,
    Operation,
    OperationConflict,
    field_label,
    parse_batch,
    parse_operation,
)
from stallapp.sales.recording import (
    Seller,
    describe,
    may_undo,
    record_operations,
    subscriber_consent_text,
    undo_sale,
)
from stallapp.sales.screen import EventTotals, event_totals, recent_sales
from stallapp.stock.models import Place
from stallapp.stock.sale_catalogue import sale_catalogue

bp = Blueprint("sales", __name__)
log = logging.getLogger(__name__)

SERVICE_WORKER = Path(__file__).resolve().parent.parent.parent / "static" / "js" / "sale-sw.js"
#: What sale.js says on the screen, as ``data-text-<name>`` attributes of the sale screen;
#: ``{count}`` and ``{time}`` are filled in by the script.
SCRIPT_TEXTS = {
    "waiting": _l("%(count)s waiting to sync", count="{count}"),
    "synced": _l("All synced"),
    "since": _l("since %(time)s", time="{time}"),
    "offline": _l("No connection: sales are kept on this phone and sent later."),
    "trouble": _l("The server has trouble: trying again shortly."),
    "held": _l("held for an organiser"),
    "advice-refused": _l(
        "It is not in the books. Write it on paper for an organiser, then remove it here."
    ),
    "advice-bad": _l(
        "It is not in the books. Record it again with the right details, or write it on paper "
        "for an organiser."
    ),
    "server-failed": _l("The server failed on this one while the others went through."),
    "advice-server": _l("Try again later. If it fails again, write it on paper for an organiser."),
    "try-again": _l("Try again"),
    "dismiss": _l("Written down: remove"),
    "pending": _l("waiting to sync"),
    "refused": _l("not recorded"),
    "undo": _l("Undo"),
    "undone": _l("undone"),
    "sold": _l("Sold"),
    "given": _l("Gave away"),
    "donation": _l("Donation"),
    "subscription": _l("Subscription"),
    "left": _l("%(count)s left", count="{count}"),
    "subscriber-kept": _l(
        "No connection: the subscriber’s details were not kept on this phone. Write them on paper."
    ),
}
#: The attributes above, rendered once per language: they are the same on every load.
_script_texts: dict[str, Markup] = {}


def _script_text_attributes() -> Markup:
    locale = str(get_locale())
    if locale not in _script_texts:
        _script_texts[locale] = Markup(" ").join(
            Markup('data-text-{}="{}"').format(name, str(text))
            for name, text in SCRIPT_TEXTS.items()
        )
    return _script_texts[locale]


def _seller() -> Seller:
    return Seller(user=current_user, role=g.membership.role)


def _sale_event(group: Group, event_id: int) -> Event:
    """Load the event of the group the sale screen is for (404 for another group's)."""
    return get_in_group_or_404(Event, event_id, group)


def _sale_event_and_till(group: Group, event_id: int) -> tuple[Event, EventTill]:
    """Load the event of the group (404 for another group's) with its till settings, the
    defaults before the first sale, in one query: the sale screen's every load needs both."""
    event, till = _event_row(group, event_id, whole_till=True)
    return event, till or tills.default_till(event)


def _sale_event_and_currency(group: Group, event_id: int) -> tuple[Event, str]:
    """Load the event of the group (404 for another group's) with the till's main currency, in
    one query, for a sale about to be recorded.

    Only the currency is read, not the till: the till is read again under its lock, and a copy
    already in the session would not be refreshed by that read.
    """
    event, main_currency = _event_row(group, event_id, whole_till=False)
    return event, main_currency or group.currency


def _event_row(group: Group, event_id: int, *, whole_till: bool) -> sa.Row:
    """The group's event with its till (or only the till's currency); 404 for another group's."""
    row = db.session.execute(
        _event_statement(whole_till), {"event_id": event_id, "group_id": group.id}
    ).first()
    if row is None:
        abort(404)
    return row


@cache
def _event_statement(whole_till: bool) -> sa.Select:
    # Built once per shape: the sale screen and every sale run it.
    return (
        sa.select(Event, EventTill if whole_till else EventTill.main_currency)
        .outerjoin(EventTill, EventTill.event_id == Event.id)
        .where(
            Event.id == sa.bindparam("event_id", type_=sa.Integer),
            Event.group_id == sa.bindparam("group_id", type_=sa.Integer),
        )
    )


@bp.route("/groups/<group_slug>/sell")
@member_required
def events(group: Group):
    """List the group's current and coming events to pick a sale screen."""
    return render_sale_list(group)


def render_sale_list(group: Group) -> str:
    """Render the group's sale list: its events from three days ago on."""
    since = utcnow() - timedelta(days=3)
    upcoming = db.session.scalars(
        sa.select(Event)
        .where(Event.group_id == group.id, Event.ends_at >= since)
        .order_by(Event.starts_at)
        .limit(30)
    ).all()
    return render_template("sales/events.html", group=group, events=upcoming)


def _screen_context(
    group: Group, event: Event, till: EventTill, chosen_publication_id: int | None = None
) -> dict:
    totals = event_totals(db.session, event)
    levels = totals.levels
    # Titles, prices and offers come from the copy this worker keeps while the group's catalogue
    # stays unchanged; the copies left, the last sales and the totals are read on every load.
    catalogue = sale_catalogue(db.session, group)
    recent = recent_sales(db.session, event)
    seller = _seller()
    now = utcnow()
    return {
        "group": group,
        "event": event,
        "till": till,
        "levels": levels,
        "packed": catalogue.packed(levels),
        "others": unpacked_title_options(catalogue, frozenset(levels), chosen_publication_id),
        "chosen_publication_id": chosen_publication_id,
        "offers": catalogue.offers,
        "recent": recent,
        "undoable": {sale.id for sale in recent if may_undo(sale, seller, now)},
        "totals": _totals_rows(totals),
        "currencies": sorted(catalogue.currencies | {till.main_currency}),
        "new_id": lambda: str(uuid.uuid4()),
        "consent_text": subscriber_consent_text(),
        "texts": _script_text_attributes(),
        "record_url": url_for("sales.record", group_slug=group.slug, event_id=event.id),
        "closed": till.closed_at is not None,
        "held": held_count(db.session, event) if till.closed_at is not None else 0,
    }


@bp.route("/groups/<group_slug>/sell/<int:event_id>")
@member_required
def screen(group: Group, event_id: int):
    """Show the sale screen: a big button per title packed for the event."""
    event, till = _sale_event_and_till(group, event_id)
    return render_template(
        "sales/screen.html", **_screen_context(group, event, till), errors={}, posted={}
    )


def _int_field(name: str):
    value = request.form.get(name, "").strip()
    if not value:
        return None
    number = whole_number(value, LARGEST_ID)
    if number is None:
        raise BadOperation(_("%(field)s must be a whole number.", field=field_label(name)))
    return number


def _form_operation(default_currency: str) -> Operation:
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
        quantity = _int_field("quantity")
        raw["quantity"] = 1 if quantity is None else quantity
    if raw["type"] == "subscription":
        raw["offer_id"] = _int_field("offer_id")
        if form.get("email", "").strip():
            raw["subscriber"] = {
                "name": form.get("name", ""),
                "email": form.get("email", ""),
                "consent": form.get("consent") == "y",
            }
    return parse_operation(raw, default_currency, regional_locale(g.group.language, g.group))


@bp.route("/groups/<group_slug>/sell/<int:event_id>/record", methods=["POST"])
@member_required
def record(group: Group, event_id: int):
    """Record one sale, give-away, donation or subscription from the sale screen's forms."""
    event, main_currency = _sale_event_and_currency(group, event_id)
    if not EmptyForm().validate_on_submit():
        flash(_("The page had expired. Please tap again."), "error")
        return redirect(url_for("sales.screen", group_slug=group.slug, event_id=event.id))
    kind = request.form.get("type", "")
    # Built now: after the commit the group and event would be loaded again just for it.
    screen_url = url_for("sales.screen", group_slug=group.slug, event_id=event.id)
    try:
        operation = _form_operation(main_currency)
        [result] = record_operations(db.session, event, _seller(), [operation])
    except BadOperation as error:
        db.session.rollback()
        till = tills.till_of(db.session, event) or tills.default_till(event)
        chosen = whole_number(request.form.get("publication_id", ""), LARGEST_ID)
        context = _screen_context(group, event, till, chosen)
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
    return redirect(screen_url)


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
            undo_sale(db.session, sale, _seller(), utcnow())
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Undone: %(what)s", what=describe(sale)), "success")
    return redirect(url_for("sales.screen", group_slug=group.slug, event_id=event.id))


def _json_error(status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), status


@bp.route("/groups/<group_slug>/sell/<int:event_id>/sync", methods=["POST"])
@member_required
def sync(group: Group, event_id: int):
    """Record a batch of operations queued on a phone, each exactly once (JSON in and out)."""
    event, main_currency = _sale_event_and_currency(group, event_id)
    body = request.get_json(silent=True)
    if body is None:
        return _json_error(400, _("The request must be JSON."))
    try:
        operations = parse_batch(body, main_currency, regional_locale(group.language, group))
    except BadOperation as error:
        return _json_error(400, error.message, operation=error.operation_id)
    try:
        results = record_operations(db.session, event, _seller(), operations)
    except OperationConflict as error:
        db.session.rollback()
        return _json_error(409, error.message, operations=error.operation_ids)
    except EventClosed as error:
        db.session.rollback()
        return _json_error(403, error.message, code=error.code)
    except sa.exc.IntegrityError:
        # The same operation id arrived at the same moment for another event's till.
        db.session.rollback()
        return _json_error(409, _("These operations were already recorded with other contents."))
    # The answer's reads below need only the event's id: out of the session, the commit does
    # not expire it, so it is not loaded again.
    db.session.expunge(event)
    db.session.commit()
    return jsonify({"results": results, **_state(event)})


def _totals_rows(totals: EventTotals) -> list[tuple[str, str]]:
    """The event's running totals as (label, value) lines: copies, then money per currency."""
    rows = [
        (_("Copies sold"), str(totals.items[Place.SOLD])),
        (_("Copies given away"), str(totals.items[Place.GIVEN_AWAY])),
    ]
    for total in totals.money:
        label = f"{KIND_LABELS[total.kind]} · {PAYMENT_LABELS[total.payment_method]}"
        rows.append((label, format_money(total.amount, total.currency)))
    return rows


def _state(event: Event) -> dict:
    """What the sale screen refreshes after a sync: copies left and the totals."""
    totals = event_totals(db.session, event)
    return {
        "levels": {str(pid): left for pid, left in totals.levels.items()},
        "totals": _totals_rows(totals),
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
    till = tills.till_of(db.session, event) or tills.default_till(event)
    form = TillSettingsForm(
        main_currency=till.main_currency, payment_method=till.default_payment_method.value
    )
    if form.validate_on_submit():
        tills.save_till_settings(
            db.session, event, form.main_currency.data, PaymentMethod(form.payment_method.data)
        )
        db.session.commit()
        flash(_("Sale settings saved."), "success")
        return redirect(url_for("sales.screen", group_slug=group.slug, event_id=event.id))
    return render_template("sales/settings.html", group=group, event=event, form=form)
