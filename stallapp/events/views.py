"""Organisers plan their group's events and series and run the door; members look on."""

import logging
from dataclasses import asdict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from stallapp.accounts.models import Group
from stallapp.csv_export import csv_response
from stallapp.errors import StallError
from stallapp.events import registrations as event_registrations
from stallapp.events import services
from stallapp.events.emails import send_event_cancelled, send_place_offers
from stallapp.events.forms import EventForm, SeriesForm
from stallapp.events.hub import (
    REGISTRATIONS_PER_PAGE,
    event_hub,
    event_state,
    registration_page,
)
from stallapp.events.models import Event, EventStatus, Registration
from stallapp.events.series import Frequency, SeriesRule
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.permissions import get_in_group_or_404, member_required, organiser_required
from stallapp.urls import absolute_url

bp = Blueprint("events", __name__, url_prefix="/groups/<group_slug>/events")
log = logging.getLogger(__name__)


def _event_url(event: Event) -> str:
    return url_for("events.show_event", group_slug=event.group.slug, event_id=event.id)


def _show_field_error(form, error: StallError) -> None:
    """Put a service's refusal next to the field it is about, or at the top of the form."""
    field = getattr(error, "field", None)
    if field and field in form:
        form[field].errors = [*form[field].errors, error.message]
    else:
        form.form_errors.append(error.message)


@bp.route("/")
@member_required
def list_events(group: Group):
    """List the group's events: upcoming first, past below."""
    upcoming, past = services.events_of_group(db.session, group)
    return render_template(
        "events/list.html",
        group=group,
        upcoming=upcoming,
        past=past,
        counts=services.registration_counts(db.session, [*upcoming, *past]),
    )


@bp.route("/new", methods=["GET", "POST"])
@organiser_required
def new_event(group: Group):
    """Create an event."""
    form = EventForm(data={"timezone": group.timezone})
    del form.scope
    if form.validate_on_submit():
        try:
            event = services.create_event(
                db.session, group, form.details(), publish=form.publish.data
            )
        except StallError as error:
            db.session.rollback()
            _show_field_error(form, error)
        else:
            db.session.commit()
            log.info("event %s created in group %s", event.id, group.id)
            flash(
                _("Event published.") if form.publish.data else _("Event saved as a draft."),
                "success",
            )
            return redirect(_event_url(event))
    return render_template("events/form.html", group=group, form=form, event=None)


@bp.route("/series/new", methods=["GET", "POST"])
@organiser_required
def new_series(group: Group):
    """Create a series of events from a rule."""
    form = SeriesForm(data={"timezone": group.timezone})
    if form.validate_on_submit():
        rule = SeriesRule(
            frequency=Frequency(form.frequency.data),
            first_day=form.first_day.data,
            last_day=form.last_day.data,
            weekdays=tuple(form.weekdays.data or ()),
            nth=form.nth.data,
            weekday=form.monthly_weekday.data,
            dates=form.date_list() if form.frequency.data == Frequency.DATES else (),
        )
        try:
            series = services.create_series(
                db.session, group, rule, form.template(), publish=form.publish.data
            )
        except StallError as error:
            db.session.rollback()
            _show_field_error(form, error)
        else:
            count = len(series.events)
            db.session.commit()
            log.info("series %s created in group %s", series.id, group.id)
            flash(
                _("%(count)d events created: %(rule)s.", count=count, rule=series.rule_summary),
                "success",
            )
            return redirect(url_for("events.list_events", group_slug=group.slug))
    return render_template("events/series_form.html", group=group, form=form)


@bp.route("/<int:event_id>")
@member_required
def show_event(group: Group, event_id: int):
    """Show an event and lead to all that belongs to it: for organisers its state, rota,
    packing, sale screen, QR codes, door list, close-out and report; for members their shifts."""
    event = get_in_group_or_404(Event, event_id, group)
    registrations = event_registrations.registrations_of(db.session, event)
    hub = event_hub(db.session, event, current_user)
    return render_template(
        "events/show.html",
        group=group,
        event=event,
        hub=hub,
        state=event_state(event, hub),
        door=registration_page(
            registrations.registered,
            request.args.get("q", "")[:100],
            request.args.get("page", 1, type=int),
        ),
        registrations=registrations,
        door_per_page=REGISTRATIONS_PER_PAGE,
        public_url=absolute_url("public_events.event_page", event_code=event.public_code),
        button_form=EmptyForm(),
    )


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_event(group: Group, event_id: int):
    """Change an event, or it and the rest of its series."""
    event = get_in_group_or_404(Event, event_id, group)
    details = services.local_details(event)
    form = EventForm(
        data={
            **asdict(details),
            "kind": details.kind.value,
            "start_date": details.start.date(),
            "start_time": details.start.time(),
            "end_time": details.end.time(),
            "end_date": details.end.date() if details.end.date() != details.start.date() else None,
        }
    )
    del form.publish
    if event.series_id is None:
        del form.scope
    if form.validate_on_submit():
        whole_series = "scope" in form and form.scope.data == "future"
        try:
            if whole_series:
                offers = services.update_series_from(db.session, event, form.details())
            else:
                offers = services.update_event(db.session, event, form.details())
        except StallError as error:
            db.session.rollback()
            _show_field_error(form, error)
        else:
            send_place_offers(offers)
            db.session.commit()
            flash(
                _("This and the later events of the series are saved.")
                if whole_series
                else _("Event saved."),
                "success",
            )
            return redirect(_event_url(event))
    return render_template("events/form.html", group=group, form=form, event=event)


def _change_status(group: Group, event_id: int, status: EventStatus, message: str):
    event = get_in_group_or_404(Event, event_id, group)
    if EmptyForm().validate_on_submit():
        to_tell = services.set_status(db.session, event, status)
        send_event_cancelled(event, to_tell)
        db.session.commit()
        log.info("event %s is now %s", event.id, status.value)
        flash(message, "success")
    return redirect(_event_url(event))


@bp.route("/<int:event_id>/publish", methods=["POST"])
@organiser_required
def publish_event(group: Group, event_id: int):
    """Publish an event: it shows on the group's public page and calendar."""
    return _change_status(group, event_id, EventStatus.PUBLISHED, _("Event published."))


@bp.route("/<int:event_id>/cancel", methods=["POST"])
@organiser_required
def cancel_event(group: Group, event_id: int):
    """Cancel an event: it shows as cancelled and the people registered are told."""
    return _change_status(group, event_id, EventStatus.CANCELLED, _("Event cancelled."))


@bp.route("/<int:event_id>/delete", methods=["GET", "POST"])
@organiser_required
def delete_event(group: Group, event_id: int):
    """Ask, then delete an event nobody registered for."""
    event = get_in_group_or_404(Event, event_id, group)
    form = EmptyForm()
    if form.validate_on_submit():
        title = event.title
        try:
            services.delete_event(db.session, event)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(_event_url(event))
        db.session.commit()
        log.info("event %s deleted from group %s", event_id, group.id)
        flash(_("%(title)s is deleted.", title=title), "success")
        return redirect(url_for("events.list_events", group_slug=group.slug))
    return render_template("events/delete.html", group=group, event=event, form=form)


@bp.route("/<int:event_id>/registrations/<int:registration_id>/check-in", methods=["POST"])
@organiser_required
def check_in(group: Group, event_id: int, registration_id: int):
    """Check someone in at the door (or undo it)."""
    event = get_in_group_or_404(Event, event_id, group)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        abort(404)
    if EmptyForm().validate_on_submit():
        try:
            event_registrations.set_checked_in(
                db.session, registration, request.form.get("checked_in") != "0"
            )
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
    # Back to the same page of the door list, filtered as it was.
    back = url_for(
        "events.show_event",
        group_slug=group.slug,
        event_id=event.id,
        q=request.args.get("q", "")[:100] or None,
        page=request.args.get("page", type=int),
    )
    return redirect(f"{back}#registration-{registration.id}")


@bp.route("/<int:event_id>/registrations.csv")
@organiser_required
def registrations_csv(group: Group, event_id: int):
    """Download the event's registrations as CSV."""
    event = get_in_group_or_404(Event, event_id, group)
    header, rows = event_registrations.registrations_table(db.session, event)
    return csv_response(f"registrations-{group.slug}-{event.public_code}.csv", header, rows)
