"""Emails to people who registered: their place, a place freed for them, a cancelled event.

Written to the outbox by views before their commit, in the group's language, with absolute
links built from ``PUBLIC_BASE_URL`` (see stallapp.urls).
"""

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from stallapp.events.models import Event, Registration, RegistrationStatus
from stallapp.events.registrations import PlaceOffer
from stallapp.i18n import group_locale
from stallapp.mail import MailPurpose, send_email
from stallapp.urls import absolute_url


def _links(event: Event, cancel_token: str | None) -> dict:
    links = {
        "group_link": absolute_url("public_events.group_page", group_slug=event.group.slug),
        "event_link": absolute_url("public_events.event_page", event_code=event.public_code),
        "calendar_link": absolute_url("public_events.event_calendar", event_code=event.public_code),
    }
    if cancel_token:
        # The registrant's own calendar file carries the meeting link once they have a place.
        links["my_calendar_link"] = absolute_url(
            "public_events.registration_calendar",
            event_code=event.public_code,
            token=cancel_token,
        )
        links["cancel_link"] = absolute_url(
            "public_events.cancel_registration",
            event_code=event.public_code,
            token=cancel_token,
        )
    return links


def send_registration_email(
    registration: Registration, cancel_token: str, waiting_position: int = 0
) -> None:
    """Tell someone they have a place (or are on the waiting list), with their cancel link."""
    event = registration.event
    with force_locale(group_locale(event.group)):
        if registration.status == RegistrationStatus.WAITING:
            subject = _("Waiting list: %(title)s", title=event.title)
        else:
            subject = _("You are registered: %(title)s", title=event.title)
        send_email(
            registration.email,
            subject,
            render_template(
                "email/event_registration.txt",
                registration=registration,
                event=event,
                waiting_position=waiting_position,
                **_links(event, cancel_token),
            ),
            purpose=MailPurpose.REGISTRATION,
            group=event.group,
        )


def send_place_offers(offers: list[PlaceOffer]) -> None:
    """Tell the people moved up from the waiting list that they now have a place."""
    for offer in offers:
        registration = offer.registration
        event = registration.event
        with force_locale(group_locale(event.group)):
            send_email(
                registration.email,
                _("A place is free for you: %(title)s", title=event.title),
                render_template(
                    "email/event_place_offer.txt",
                    registration=registration,
                    event=event,
                    **_links(event, offer.cancel_token),
                ),
                purpose=MailPurpose.REGISTRATION,
                group=event.group,
            )


def send_event_cancelled(event: Event, registrations: list[Registration]) -> None:
    """Tell everyone registered or waiting that the event is cancelled."""
    with force_locale(group_locale(event.group)):
        subject = _("Cancelled: %(title)s", title=event.title)
        for registration in registrations:
            send_email(
                registration.email,
                subject,
                render_template(
                    "email/event_cancelled.txt",
                    registration=registration,
                    event=event,
                    **_links(event, None),
                ),
                purpose=MailPurpose.EVENT_CANCELLED,
                group=event.group,
            )
