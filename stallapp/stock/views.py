"""Organisers' catalogue, stores, packing for events and the stock ledger."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from stallapp.accounts.models import Group
from stallapp.errors import StallError
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.permissions import get_in_group_or_404, organiser_required
from stallapp.stock import copying, corrections, history, lookups, public_settings, services
from stallapp.stock.forms import (
    KIND_LABELS,
    CopyForm,
    CountForm,
    HowToOrderForm,
    LedgerFilterForm,
    MoveForm,
    PackForm,
    PublicationForm,
    ReceiveForm,
    ReturnForm,
    StoreForm,
    SubscriptionOfferForm,
    WriteOffForm,
    currency_choices,
)
from stallapp.stock.models import (
    Place,
    Publication,
    PublicationKind,
    StockMovement,
    Store,
    SubscriptionOffer,
)

bp = Blueprint("stock", __name__, url_prefix="/groups/<group_slug>/stock")

PLACE_LABELS = {
    Place.STORE: "",
    Place.EVENT: "",
    Place.OUTSIDE: _l("outside"),
    Place.SOLD: _l("sold"),
    Place.GIVEN_AWAY: _l("given away"),
    Place.WRITTEN_OFF: _l("written off"),
    Place.ADJUSTMENT: _l("count adjustment"),
}


@bp.context_processor
def _price_currencies() -> dict:
    """Offer the group's currency first in every price row of the stock pages."""
    group = g.get("group")
    return {"price_currencies": currency_choices(group.currency) if group else []}


def _data(form: PublicationForm) -> services.PublicationData:
    return services.PublicationData(
        title=form.title.data,
        kind=PublicationKind(form.kind.data),
        language=form.language.data,
        issue_number=form.issue_number.data or "",
        issue_date=form.issue_date.data,
        isbn=form.isbn.data or "",
        is_free=form.is_free.data,
        reorder_level=form.reorder_level.data,
        active=form.active.data,
        prices=form.parsed_prices,
    )


def _prices_text(prices) -> str:
    from stallapp.money import to_decimal

    return ", ".join(f"{p.currency} {to_decimal(p.amount, p.currency)}" for p in prices)


@bp.route("/")
@organiser_required
def index(group: Group):
    """List the catalogue with the copies in all stores, flagging titles to reprint."""
    publications = services.publications_of(db.session, group)
    totals = services.totals_by_publication(services.store_levels(db.session, group))
    return render_template(
        "stock/index.html",
        group=group,
        publications=publications,
        totals=totals,
        kind_labels=KIND_LABELS,
        needs_reprint=services.needs_reprint,
    )


@bp.route("/publications/new", methods=["GET", "POST"])
@organiser_required
def new_publication(group: Group):
    """Add a title to the catalogue."""
    form = PublicationForm(language=group.language)
    if form.validate_on_submit():
        try:
            publication = services.create_publication(db.session, group, _data(form))
        except StallError as error:
            db.session.rollback()
            form.prices.errors = [error.message]
        else:
            db.session.commit()
            flash(_("“%(title)s” added to the catalogue.", title=publication.title), "success")
            return redirect(url_for("stock.index", group_slug=group.slug))
    return render_template("stock/publication.html", group=group, form=form, publication=None)


@bp.route("/publications/<int:publication_id>", methods=["GET", "POST"])
@organiser_required
def edit_publication(group: Group, publication_id: int):
    """Change a title's details, prices, or retire it."""
    publication = get_in_group_or_404(Publication, publication_id, group)
    form = PublicationForm(obj=publication)
    if request.method == "GET":
        form.prices.data = _prices_text(publication.prices)
        form.kind.data = publication.kind.value
    if form.validate_on_submit():
        try:
            services.update_publication(db.session, publication, _data(form))
        except StallError as error:
            db.session.rollback()
            form.prices.errors = [error.message]
        else:
            db.session.commit()
            flash(_("“%(title)s” saved.", title=publication.title), "success")
            return redirect(url_for("stock.index", group_slug=group.slug))
    return render_template(
        "stock/publication.html", group=group, form=form, publication=publication
    )


@bp.route("/publications/copy", methods=["GET", "POST"])
@organiser_required
def copy_publication(group: Group):
    """Copy a title from another group the organiser also organises."""
    form = CopyForm()
    if form.validate_on_submit():
        source = db.session.get(Publication, form.source_id.data)
        if source is None:
            abort(404)
        try:
            copy = copying.copy_publication(db.session, current_user, source, group)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("“%(title)s” copied; check its prices.", title=copy.title), "success")
            return redirect(
                url_for("stock.edit_publication", group_slug=group.slug, publication_id=copy.id)
            )
    return render_template(
        "stock/copy.html",
        group=group,
        candidates=copying.copyable_publications(db.session, current_user, group),
    )


@bp.route("/stores", methods=["GET", "POST"])
@organiser_required
def stores(group: Group):
    """List the group's stores with their stock, and add one."""
    form = StoreForm()
    if form.validate_on_submit():
        try:
            store = services.create_store(db.session, group, form.name.data, form.note.data or "")
        except StallError as error:
            db.session.rollback()
            form.name.errors = [error.message]
        else:
            db.session.commit()
            flash(_("Store “%(name)s” added.", name=store.name), "success")
            return redirect(url_for("stock.store", group_slug=group.slug, store_id=store.id))
    levels = services.store_levels(db.session, group)
    copies = {}
    for (store_id, _publication), count in levels.items():
        copies[store_id] = copies.get(store_id, 0) + count
    return render_template(
        "stock/stores.html",
        group=group,
        form=form,
        stores=services.stores_of(db.session, group),
        copies=copies,
    )


def _store_forms(group: Group, store: Store) -> dict:
    publications = services.publications_of(db.session, group)
    choices = [
        (p.id, p.title + (f" {p.issue_number}" if p.issue_number else "")) for p in publications
    ]
    other_stores = [
        (s.id, s.name) for s in services.stores_of(db.session, group) if s.id != store.id
    ]
    forms = {
        "receive": ReceiveForm(prefix="receive"),
        "move": MoveForm(prefix="move"),
        "write_off": WriteOffForm(prefix="write_off"),
        "count": CountForm(prefix="count"),
    }
    for form in forms.values():
        form.publication_id.choices = choices
    forms["move"].target_id.choices = other_stores
    return forms


def _render_store(group: Group, store: Store, forms: dict, status: int = 200):
    levels = services.store_levels(db.session, group)
    publications = services.publications_of(db.session, group)
    rows = [
        (p, levels.get((store.id, p.id), 0)) for p in publications if (store.id, p.id) in levels
    ]
    return (
        render_template("stock/store.html", group=group, store=store, rows=rows, forms=forms),
        status,
    )


@bp.route("/stores/<int:store_id>")
@organiser_required
def store(group: Group, store_id: int):
    """Show a store's stock and the forms to receive, move, write off and count."""
    store = get_in_group_or_404(Store, store_id, group)
    return _render_store(group, store, _store_forms(group, store))


def _store_action(group: Group, store_id: int, name: str, act):
    store = get_in_group_or_404(Store, store_id, group)
    forms = _store_forms(group, store)
    form = forms[name]
    if form.validate_on_submit():
        publication = get_in_group_or_404(Publication, form.publication_id.data, group)
        try:
            message = act(store, publication, form)
        except StallError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("stock.store", group_slug=group.slug, store_id=store.id))
    return _render_store(group, store, forms, 400)


@bp.route("/stores/<int:store_id>/receive", methods=["POST"])
@organiser_required
def receive(group: Group, store_id: int):
    """Book copies arriving into the store."""

    def act(store, publication, form):
        services.receive(
            db.session, store, publication, form.quantity.data, current_user, form.note.data or ""
        )
        return _(
            "%(count)d × %(title)s received.",
            count=form.quantity.data,
            title=publication.full_title,
        )

    return _store_action(group, store_id, "receive", act)


@bp.route("/stores/<int:store_id>/move", methods=["POST"])
@organiser_required
def move(group: Group, store_id: int):
    """Move copies to another store."""

    def act(store, publication, form):
        target = get_in_group_or_404(Store, form.target_id.data, group)
        services.move_between_stores(
            db.session,
            store,
            target,
            publication,
            form.quantity.data,
            current_user,
            form.note.data or "",
        )
        return _(
            "%(count)d × %(title)s moved to %(store)s.",
            count=form.quantity.data,
            title=publication.full_title,
            store=target.name,
        )

    return _store_action(group, store_id, "move", act)


@bp.route("/stores/<int:store_id>/write-off", methods=["POST"])
@organiser_required
def write_off(group: Group, store_id: int):
    """Write off damaged or lost copies."""

    def act(store, publication, form):
        services.write_off(
            db.session, store, publication, form.quantity.data, current_user, form.reason.data
        )
        return _(
            "%(count)d × %(title)s written off.",
            count=form.quantity.data,
            title=publication.full_title,
        )

    return _store_action(group, store_id, "write_off", act)


@bp.route("/stores/<int:store_id>/count", methods=["POST"])
@organiser_required
def count(group: Group, store_id: int):
    """Record a stock count; the difference is booked as an adjustment."""

    def act(store, publication, form):
        movement = corrections.record_count(
            db.session, store, publication, form.counted.data, current_user, form.reason.data
        )
        if movement is None:
            return _("The count agrees with the ledger: nothing to book.")
        return _("Count recorded; the difference is booked as an adjustment.")

    return _store_action(group, store_id, "count", act)


@bp.route("/events/<int:event_id>/pack", methods=["GET", "POST"])
@organiser_required
def pack(group: Group, event_id: int):
    """Pack titles from a store for an event, and move what is left back afterwards."""
    event = get_in_group_or_404(Event, event_id, group)
    stores = services.stores_of(db.session, group)
    publications = services.publications_of(db.session, group, active_only=True)
    levels = services.store_levels(db.session, group)
    form = PackForm.for_titles(publications, stores)
    #: The confirmation (a reason) is asked for only once the levels were shown.
    ask_reason = False
    if form.validate_on_submit():
        store = next(s for s in stores if s.id == form.store_id.data)
        try:
            movements = services.pack_for_event(
                db.session,
                store,
                event,
                form.quantities(publications),
                current_user,
                beyond_stock_reason=form.beyond_reason.data or "",
            )
        except services.NotEnoughStock as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            ask_reason = True
            for shortfall in error.shortfalls:
                form.quantity(shortfall.publication).errors.append(
                    _("Only %(held)d in %(store)s.", held=shortfall.held, store=error.store.name)
                )
        except StallError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(ngettext_copies(sum(m.quantity for m in movements), store.name), "success")
            return redirect(url_for("stock.pack", group_slug=group.slug, event_id=event.id))
    return_form = ReturnForm(prefix="return")
    return_form.store_id.choices = [(s.id, s.name) for s in stores]
    return (
        render_template(
            "stock/pack.html",
            group=group,
            event=event,
            stores=stores,
            publications=publications,
            levels=levels,
            at_event=services.event_levels(db.session, event),
            form=form,
            ask_reason=ask_reason,
            return_form=return_form,
        ),
        400 if request.method == "POST" else 200,
    )


def ngettext_copies(count: int, store_name: str) -> str:
    from flask_babel import ngettext

    return ngettext(
        "%(num)d copy packed from %(store)s.",
        "%(num)d copies packed from %(store)s.",
        count,
        store=store_name,
    )


@bp.route("/events/<int:event_id>/return", methods=["POST"])
@organiser_required
def return_stock(group: Group, event_id: int):
    """Move every copy still at the event back to a store."""
    event = get_in_group_or_404(Event, event_id, group)
    form = ReturnForm(prefix="return")
    form.store_id.choices = [(s.id, s.name) for s in services.stores_of(db.session, group)]
    if form.validate_on_submit():
        store = get_in_group_or_404(Store, form.store_id.data, group)
        try:
            movements = services.return_from_event(db.session, event, store, current_user)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                _(
                    "%(count)d copies moved back to %(store)s.",
                    count=sum(m.quantity for m in movements),
                    store=store.name,
                ),
                "success",
            )
    else:
        flash(_("Choose the store the copies go back to."), "error")
    return redirect(url_for("stock.pack", group_slug=group.slug, event_id=event.id))


@bp.route("/ledger")
@organiser_required
def ledger(group: Group):
    """Show the stock movements a page at a time, latest first, filtered by store, title and
    dates, with a correction button on each."""
    form = LedgerFilterForm(request.args)
    form.store.choices = [("", _("All stores"))] + [
        (store.id, store.name) for store in services.stores_of(db.session, group)
    ]
    form.title.choices = [("", _("All titles")), *lookups.title_choices(db.session, group)]
    form.validate()
    chosen = history.LedgerFilter(
        store_id=form.store.data,
        publication_id=form.title.data,
        first_day=form.since.data if not form.since.errors else None,
        last_day=form.until.data if not form.until.errors else None,
    )
    page = request.args.get("page", 1, type=int)
    movements, has_more = history.ledger_page(db.session, group, chosen, page)
    filters = {
        key: value
        for key, value in request.args.items()
        if key in ("store", "title", "since", "until") and value
    }
    return render_template(
        "stock/ledger.html",
        group=group,
        filter_form=form,
        filters=filters,
        page=max(page, 1),
        has_more=has_more,
        movements=movements,
        reversed_ids=history.reversed_ids(db.session, [m.id for m in movements]),
        place_labels=PLACE_LABELS,
        form=EmptyForm(),
    )


@bp.route("/ledger/<int:movement_id>/reverse", methods=["POST"])
@organiser_required
def reverse(group: Group, movement_id: int):
    """Correct a movement by booking its reversal."""
    movement = get_in_group_or_404(StockMovement, movement_id, group)
    if EmptyForm().validate_on_submit():
        try:
            corrections.reverse_movement(db.session, movement, current_user)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Correction booked."), "success")
    return redirect(url_for("stock.ledger", group_slug=group.slug))


@bp.route("/public-page", methods=["GET", "POST"])
@organiser_required
def public_page(group: Group):
    """Edit the "how to order" text and the subscription offers of the public catalogue."""
    settings = public_settings.catalogue_settings(db.session, group)
    form = HowToOrderForm(how_to_order=settings.how_to_order if settings else "")
    if form.validate_on_submit():
        public_settings.save_how_to_order(db.session, group, form.how_to_order.data or "")
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("stock.public_page", group_slug=group.slug))
    return render_template(
        "stock/public_page.html",
        group=group,
        form=form,
        offers=services.subscription_offers_of(db.session, group),
        offer_form=SubscriptionOfferForm(formdata=None),
    )


@bp.route("/subscriptions/new", methods=["POST"])
@organiser_required
def new_offer(group: Group):
    """Add a subscription offer."""
    return _save_offer(group, None)


@bp.route("/subscriptions/<int:offer_id>", methods=["GET", "POST"])
@organiser_required
def edit_offer(group: Group, offer_id: int):
    """Change a subscription offer's name, prices, or stop offering it."""
    offer = get_in_group_or_404(SubscriptionOffer, offer_id, group)
    return _save_offer(group, offer)


def _save_offer(group: Group, offer: SubscriptionOffer | None):
    form = SubscriptionOfferForm(obj=offer)
    if request.method == "GET" and offer is not None:
        form.prices.data = _prices_text(offer.prices)
    if form.validate_on_submit():
        offer = services.save_subscription_offer(
            db.session,
            group,
            name=form.name.data,
            description=form.description.data or "",
            prices=form.parsed_prices,
            active=form.active.data,
            offer=offer,
        )
        db.session.commit()
        flash(_("Subscription “%(name)s” saved.", name=offer.name), "success")
        return redirect(url_for("stock.public_page", group_slug=group.slug))
    return (
        render_template("stock/offer.html", group=group, form=form, offer=offer),
        400 if request.method == "POST" else 200,
    )
