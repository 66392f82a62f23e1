"""An online meeting's link goes only to people with a place, unless the organiser publishes it:
it appears on no public page, feed, calendar file, embed or structured data."""

import re
from dataclasses import replace

import pytest

from stallapp.events import services
from stallapp.events.models import EventKind
from stallapp.network import services as network
from tests.builders import add_event
from tests.conftest import path_of

LINK = "https://meet.example.org/iwg-state-capitalism"
PRIVATE_NOTE = "Online — the link is sent to people who register"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PUBLIC_FORM_LIMIT": "1000 per minute"}


@pytest.fixture
def nyc(db, make_group):
    group = make_group(slug="nyc", name="IWG New York", timezone="America/New_York")
    network.save_public_page_settings(
        db.session, group, listed_on_network=True, embed_origins="https://iwg.example.org"
    )
    db.session.commit()
    return group


@pytest.fixture
def online(db, nyc):
    return add_event(
        db,
        nyc,
        kind=EventKind.ONLINE_MEETING,
        title="State capitalism in the USSR",
        venue_name="",
        address="",
        postcode="",
        online_url=LINK,
        registration_required=True,
        capacity=1,
    )


def _public_surfaces(event) -> list[str]:
    code, slug = event.public_code, event.group.slug
    return [
        f"/e/{code}",
        f"/e/{code}/event.ics",
        f"/g/{slug}",
        f"/g/{slug}/events.ics",
        f"/g/{slug}/events.json",
        f"/g/{slug}/events.atom",
        f"/g/{slug}/embed/events",
        "/events",
        "/events?kind=online",
        "/events.ics",
        "/events.json",
        "/events.atom",
    ]


def _form(email, name="Rosa"):
    return {"name": name, "email": email, "note": "", "consent": "y", "website": ""}


def _manage_link(message) -> str:
    match = re.search(r"https?://\S+/cancel/\S+", message.body)
    assert match, message.body
    return path_of(match.group(0))


def _personal_calendar(message) -> str:
    match = re.search(r"https?://\S+/r/\S+/event\.ics", message.body)
    assert match, message.body
    return path_of(match.group(0))


def _unfolded(calendar: bytes) -> str:
    """The calendar's text with RFC 5545 line folding undone."""
    return calendar.decode().replace("\r\n ", "")


def test_the_link_is_on_no_public_surface(client, online):
    for path in _public_surfaces(online):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        if path.endswith(".ics"):
            body = _unfolded(response.data)
        assert LINK not in body, path
        assert "meet.example.org" not in body, path
    page = client.get(f"/e/{online.public_code}").get_data(as_text=True)
    assert PRIVATE_NOTE in page
    assert PRIVATE_NOTE in _unfolded(client.get("/g/nyc/events.ics").data)
    assert client.get("/g/nyc/events.json").get_json()["events"][0]["online_note"] == PRIVATE_NOTE


def test_registrants_get_the_link_by_email_page_and_calendar(client, online, mail):
    response = client.post(f"/e/{online.public_code}", data=_form("rosa@example.org"))
    page = response.get_data(as_text=True)
    assert "You are registered" in page
    assert LINK not in page, "the answer page does not prove the address is theirs"
    assert "The meeting link is in that email." in page
    (message,) = mail
    assert LINK in message.body
    manage = client.get(_manage_link(message))
    assert manage.status_code == 200
    assert LINK in manage.get_data(as_text=True)
    assert manage.headers["Cache-Control"] == "no-store"
    calendar = client.get(_personal_calendar(message))
    assert calendar.status_code == 200
    assert calendar.headers["Cache-Control"] == "private, no-store"
    assert f"LOCATION:{LINK}" in _unfolded(calendar.data)


def test_the_waiting_list_gets_the_link_only_with_a_place(client, online, mail):
    client.post(f"/e/{online.public_code}", data=_form("first@example.org"))
    client.post(f"/e/{online.public_code}", data=_form("second@example.org", name="Karl"))
    first, second = mail
    assert "waiting list" in second.body
    assert LINK not in second.body
    waiting_page = client.get(_manage_link(second)).get_data(as_text=True)
    assert LINK not in waiting_page and "You are on the waiting list." in waiting_page
    assert LINK not in _unfolded(client.get(_personal_calendar(second)).data)
    mail.clear()
    client.post(_manage_link(first))
    (offer,) = mail
    assert offer.to == "second@example.org"
    assert LINK in offer.body
    assert LINK in client.get(_manage_link(offer)).get_data(as_text=True)


def test_a_cancelled_registration_stops_showing_the_link(client, online, mail):
    client.post(f"/e/{online.public_code}", data=_form("rosa@example.org"))
    (message,) = mail
    manage, calendar = _manage_link(message), _personal_calendar(message)
    assert LINK in client.get(manage).get_data(as_text=True)
    done = client.post(manage)
    assert LINK not in done.get_data(as_text=True)
    again = client.get(manage)
    assert again.status_code == 404 and LINK not in again.get_data(as_text=True)
    assert client.get(calendar).status_code == 404


def test_another_events_token_opens_nothing(client, db, nyc, online, mail):
    other = add_event(db, nyc, title="Another meeting", registration_required=True)
    client.post(f"/e/{online.public_code}", data=_form("rosa@example.org"))
    (message,) = mail
    token = _personal_calendar(message).split("/r/")[1].split("/")[0]
    assert client.get(f"/e/{other.public_code}/r/{token}/event.ics").status_code == 404
    assert client.get(f"/e/{online.public_code}/r/not-a-token/event.ics").status_code == 404


def test_an_organiser_may_publish_the_link(client, db, online):
    details = replace(services.local_details(online), online_link_public=True)
    services.update_event(db.session, online, details)
    db.session.commit()
    page = client.get(f"/e/{online.public_code}").get_data(as_text=True)
    assert f'href="{LINK}"' in page and PRIVATE_NOTE not in page
    (event,) = client.get("/g/nyc/events.json").get_json()["events"]
    assert event["online_url"] == LINK and event["online_note"] == ""
    assert f"LOCATION:{LINK}" in _unfolded(client.get("/g/nyc/events.ics").data)


def test_the_event_form_keeps_the_link_private_unless_ticked(client, db, nyc, make_user, login_as):
    organiser = make_user(groups={nyc: "organiser"})
    login_as(organiser)
    form = {
        "kind": "online_meeting",
        "title": "Reading group",
        "start_date": "2030-04-22",
        "start_time": "19:00",
        "end_time": "20:30",
        "timezone": "America/New_York",
        "online_url": LINK,
        "registration_required": "y",
        "publish": "y",
    }
    assert client.post("/groups/nyc/events/new", data=form).status_code == 302
    (event,) = [
        e for e in services.events_of_group(db.session, nyc)[0] if e.title == "Reading group"
    ]
    assert not event.online_link_public
    show = client.get(f"/groups/nyc/events/{event.id}").get_data(as_text=True)
    assert LINK in show and "Private: only people with a place get this link." in show
    client.post(
        f"/groups/nyc/events/{event.id}/edit",
        data={**form, "online_link_public": "y", "scope": "one"},
    )
    db.session.refresh(event)
    assert event.online_link_public


def test_an_announcement_of_the_meeting_keeps_the_link_private(app, db, nyc, online, make_user):
    from stallapp.announcements.services import AnnouncementText, render_body, save_draft

    organiser = make_user(groups={nyc: "organiser"})
    announcement = save_draft(
        db.session,
        nyc,
        organiser,
        AnnouncementText(subject="Online meeting", body="Join us.", event_id=online.id),
    )
    db.session.commit()
    with app.test_request_context():
        body = render_body(announcement, None)
    assert LINK not in body
    assert PRIVATE_NOTE in body
