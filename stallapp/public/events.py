"""Public event pages on short URLs (they go into QR codes): a group's events, calendar feeds,
an event's page with its registration form, and the emailed cancel link. No login needed."""

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from stallapp.announcements.services import SOURCE_PARAMETER, source_announcement_id
from stallapp.caching import ALWAYS_REVALIDATE, public_response
from stallapp.errors import InvalidToken, StallError
from stallapp.events import registrations, services
from stallapp.events.calendar import calendar_bytes
from stallapp.events.emails import send_place_offers, send_registration_email
from stallapp.events.forms import RegistrationForm
from stallapp.events.models import Event, RegistrationStatus
from stallapp.extensions import db, limiter
from stallapp.forms import EmptyForm
from stallapp.network.feeds import (
    event_link_preview,
    event_structured_data,
    group_link_preview,
    group_structured_data,
)
from stallapp.network.services import site_settings
from stallapp.permissions import public_group_or_404
from stallapp.qr.visits import scanned_qr_code_id
from stallapp.security import NO_TOKEN, same_origin_posts
from stallapp.urls import absolute_url

bp = Blueprint("public_events", __name__)
log = logging.getLogger(__name__)

#: Pages without a form may be kept by browsers and proxies for a few minutes.
CACHE_FOR_FIVE_MINUTES = "public, max-age=300"


def _public_event_or_404(event_code: str) -> Event:
    """Load a published or cancelled event; its group's language becomes the page's."""
    event = services.public_event(db.session, event_code)
    if event is None:
        abort(404)
    g.public_group = event.group
    return event


def _event_link(event: Event) -> str:
    return absolute_url("public_events.event_page", event_code=event.public_code)


def _calendar_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = CACHE_FOR_FIVE_MINUTES
    return response


def _group_links(group) -> dict[str, str]:
    """Links to the group's other public pages, where the app has them."""
    links = {}
    for name, endpoint in (
        ("join", "public_contacts.join"),
        ("contact", "public_contacts.contact"),
    ):
        if endpoint in current_app.view_functions:
            links[name] = url_for(endpoint, group_slug=group.slug)
    return links


@bp.route("/g/<group_slug>")
def group_page(group_slug: str):
    """Show the group's upcoming events to the public."""
    group = public_group_or_404(group_slug)
    events = services.upcoming_public_events(db.session, group)
    url = absolute_url("public_events.group_page", group_slug=group.slug)
    site_name = site_settings(db.session).name
    response = Response(
        render_template(
            "public/group_page.html",
            group=group,
            events=events,
            links=_group_links(group),
            preview=group_link_preview(group, url, events, site_name, str(get_locale()), _("Next")),
            structured_data=group_structured_data(group, url, events, _event_link),
        )
    )
    response.headers["Cache-Control"] = CACHE_FOR_FIVE_MINUTES
    return response


@bp.route("/g/<group_slug>/events.ics")
def group_calendar(group_slug: str):
    """Serve the group's events as an iCalendar feed to subscribe to."""
    group = public_group_or_404(group_slug)
    body = calendar_bytes(
        services.calendar_feed_events(db.session, group), _event_link, name=group.name
    )
    return _calendar_response(body, f"{group.slug}-events.ics")


@bp.route("/e/<event_code>/r/<token>/event.ics")
def registration_calendar(event_code: str, token: str):
    """Serve a registrant's own calendar file, with the meeting link once they have a place."""
    event = _public_event_or_404(event_code)
    try:
        registration = registrations.registration_for_cancel_token(db.session, token)
    except InvalidToken:
        abort(404)
    if registration.event_id != event.id:
        abort(404)
    body = calendar_bytes(
        [event],
        _event_link,
        reveal_online_link=registration.status == RegistrationStatus.REGISTERED,
    )
    response = _calendar_response(body, f"event-{event.public_code}.ics")
    # It may hold the private link: for this person's calendar only, never a shared cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/e/<event_code>/event.ics")
def event_calendar(event_code: str):
    """Serve one event as an iCalendar file, to add it to a calendar."""
    event = _public_event_or_404(event_code)
    return _calendar_response(
        calendar_bytes([event], _event_link), f"event-{event.public_code}.ics"
    )


def _consent_wording(event: Event) -> str:
    return _(
        "I agree that %(group)s keeps my name, email and note to manage my registration, and "
        "may email me about this event.",
        group=event.group.name,
    )


@bp.route("/e/<event_code>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_FORM_LIMIT"], methods=["POST"])
@same_origin_posts
def event_page(event_code: str):
    """Show an event to the public, and register for it when registration is on."""
    event = _public_event_or_404(event_code)
    form = RegistrationForm(meta=NO_TOKEN) if registrations.registration_open(event) else None
    if form is not None:
        form.consent.label.text = _consent_wording(event)
    if form is not None and form.validate_on_submit():
        if form.website.data:
            # The honeypot was filled in: a bot. It is told what a person would be told.
            log.info("registration honeypot filled for event %s", event.id)
            return render_template(
                "public/event_registered.html", event=event, waiting=False, position=0
            )
        try:
            result = registrations.register(
                db.session,
                event,
                name=form.name.data,
                email=form.email.data,
                note=form.note.data or "",
                consent_text=str(form.consent.label.text),
                source_qr_code_id=scanned_qr_code_id(),
                source_announcement_id=source_announcement_id(
                    db.session, event, request.args.get(SOURCE_PARAMETER)
                ),
            )
        except StallError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            registration = result.registration
            position = registrations.waiting_position(db.session, registration)
            send_registration_email(registration, result.cancel_token, position)
            db.session.commit()
            log.info(
                "registration %s for event %s (%s)",
                registration.id,
                event.id,
                "new" if result.created else "repeat",
            )
            return render_template(
                "public/event_registered.html",
                event=event,
                waiting=position > 0,
                position=position,
            )
    url = _event_link(event)
    group_url = absolute_url("public_events.group_page", group_slug=event.group.slug)
    page = render_template(
        "public/event_page.html",
        event=event,
        form=form,
        links=_group_links(event.group),
        preview=event_link_preview(event, url, site_settings(db.session).name, str(get_locale())),
        structured_data=event_structured_data(event, url, group_url),
    )
    if request.method == "POST":
        return page  # the person's input and its messages: for nobody else
    # The same for every reader (no token, no cookie); the places left move, so a browser
    # asks each time and gets a 304 while nothing changed.
    return public_response(page, ALWAYS_REVALIDATE)


@bp.route("/e/<event_code>/cancel/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_FORM_LIMIT"], methods=["POST"])
@same_origin_posts
def cancel_registration(event_code: str, token: str):
    """Cancel a registration with the link from its email: ask first, then cancel."""
    event = _public_event_or_404(event_code)
    try:
        registration = registrations.registration_for_cancel_token(db.session, token)
        if registration.event_id != event.id:
            raise InvalidToken()
    except InvalidToken as error:
        return render_template(
            "public/event_link_invalid.html", event=event, message=error.message
        ), 404
    form = EmptyForm(meta=NO_TOKEN)
    if form.validate_on_submit():
        try:
            cancellation = registrations.cancel_registration(db.session, token)
        except InvalidToken as error:
            db.session.rollback()
            return render_template(
                "public/event_link_invalid.html", event=event, message=error.message
            ), 404
        send_place_offers(cancellation.moved_up)
        db.session.commit()
        log.info("registration %s cancelled", cancellation.registration.id)
        return render_template("public/event_registration_cancelled.html", event=event)
    return render_template(
        "public/event_cancel_registration.html",
        event=event,
        registration=registration,
        form=form,
        has_place=registration.status == RegistrationStatus.REGISTERED,
        calendar_link=url_for(
            "public_events.registration_calendar", event_code=event.public_code, token=token
        ),
    )
