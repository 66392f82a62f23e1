"""A group's events for other web sites: JSON and Atom feeds, embeds and their framing rule, and
the link previews and schema.org data on its public pages."""

import json
import re
from datetime import datetime, timedelta
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa

from stallapp.database import utcnow
from stallapp.events import services as event_services
from stallapp.events.models import Event, EventKind, EventStatus
from stallapp.network import services
from stallapp.stock import services as stock
from stallapp.stock.models import PublicationKind
from stallapp.times import utc_to_local
from tests.builders import add_event

ATOM = "{http://www.w3.org/2005/Atom}"
#: 2024-10-19T10:00:00+01:00: local time with its offset.
WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def _atom(data: bytes) -> ElementTree.Element:
    """Parse a feed this app just wrote (trusted: no entity tricks to defend against)."""
    return ElementTree.fromstring(data)  # noqa: S314


def _in_days(group, days, hour):
    day = utc_to_local(utcnow(), group.timezone).date() + timedelta(days=days)
    return datetime.combine(day, datetime.min.time()).replace(hour=hour)


@pytest.fixture
def uk(db, make_group):
    group = make_group(slug="uk", name="CWO (UK)", timezone="Europe/London", currency="GBP")
    add_event(
        db,
        group,
        kind=EventKind.STALL,
        title="Peterborough Radical Bookfair",
        start=_in_days(group, 10, 10),
        hours=7,
        venue_name="The George Alcock Centre",
        address="Whittlesey Rd, Stanground, Peterborough",
        postcode="PE2 8QS",
        description="The CWO will have a stall.",
    )
    cancelled = add_event(db, group, title="Called off meeting", start=_in_days(group, 12, 19))
    event_services.set_status(db.session, cancelled, EventStatus.CANCELLED)
    add_event(
        db,
        group,
        kind=EventKind.ONLINE_MEETING,
        title="Online meeting",
        start=_in_days(group, 14, 19),
        venue_name="",
        address="",
        postcode="",
        online_url="https://meet.example.org/private-room",
        registration_required=True,
    )
    add_event(db, group, publish=False, title="Secret draft")
    stock.create_publication(
        db.session,
        group,
        stock.PublicationData(
            title="Revolutionary Perspectives",
            issue_number="No. 24",
            kind=PublicationKind.JOURNAL_ISSUE,
            language="en",
            prices={"GBP": 400},
        ),
    )
    db.session.commit()
    return group


FEED_HEADERS = {"Cache-Control": "public, max-age=300"}


def _same_caching_as_the_calendar(client, response):
    calendar = client.get("/g/uk/events.ics")
    assert response.headers["Cache-Control"] == calendar.headers["Cache-Control"]
    assert response.headers["Cache-Control"] == FEED_HEADERS["Cache-Control"]


def test_json_feed_has_the_documented_shape(client, uk):
    response = client.get("/g/uk/events.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    _same_caching_as_the_calendar(client, response)
    feed = response.get_json()
    assert feed["version"] == 1
    assert feed["title"] == "CWO (UK)"
    assert feed["home_page_url"] == "http://stall.test/g/uk"
    assert feed["feed_url"] == "http://stall.test/g/uk/events.json"
    titles = [event["title"] for event in feed["events"]]
    assert titles == ["Peterborough Radical Bookfair", "Called off meeting", "Online meeting"]
    fields = {
        "id": str,
        "title": str,
        "kind": str,
        "status": str,
        "start": str,
        "end": str,
        "time_zone": str,
        "venue": str,
        "address": str,
        "postcode": str,
        "online": bool,
        "online_url": (str, type(None)),
        "online_note": str,
        "registration_required": bool,
        "description": str,
        "url": str,
        "language": str,
        "group": dict,
        "updated": str,
    }
    for event in feed["events"]:
        assert set(event) == set(fields)
        for name, kind in fields.items():
            assert isinstance(event[name], kind), name
        assert WITH_OFFSET.match(event["start"]) and WITH_OFFSET.match(event["end"])
        assert event["group"] == {
            "slug": "uk",
            "name": "CWO (UK)",
            "url": "http://stall.test/g/uk",
        }
    stall, called_off, online = feed["events"]
    assert stall["kind"] == "stall" and stall["status"] == "published"
    assert stall["start"].endswith(("T10:00:00+00:00", "T10:00:00+01:00"))
    assert stall["time_zone"] == "Europe/London"
    assert (stall["venue"], stall["postcode"]) == ("The George Alcock Centre", "PE2 8QS")
    assert stall["online"] is False and stall["online_url"] is None
    assert stall["url"].startswith("http://stall.test/e/")
    assert called_off["status"] == "cancelled"
    assert online["online"] is True and online["online_url"] is None
    assert online["online_note"] == "Online — the link is sent to people who register"


def test_atom_feed_lists_the_coming_events(client, uk):
    response = client.get("/g/uk/events.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    _same_caching_as_the_calendar(client, response)
    feed = _atom(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}title").text == "CWO (UK)"
    assert feed.find(f"{ATOM}id").text == "http://stall.test/g/uk/events.atom"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == feed.find(f"{ATOM}id").text
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.find(f"{ATOM}title").text for entry in entries] == [
        "Peterborough Radical Bookfair",
        "Cancelled: Called off meeting",
        "Online meeting",
    ]
    for entry in entries:
        assert entry.find(f"{ATOM}id").text.startswith("http://stall.test/e/")
        assert entry.find(f"{ATOM}updated").text
        assert entry.find(f"{ATOM}author/{ATOM}name").text == "CWO (UK)"
    summary = entries[0].find(f"{ATOM}summary").text
    assert "10:00–17:00" in summary and "PE2 8QS" in summary


def test_network_feeds_have_the_same_shape(client, db, uk):
    services.save_public_page_settings(db.session, uk, listed_on_network=True, embed_origins="")
    db.session.commit()
    feed = client.get("/events.json").get_json()
    assert feed["version"] == 1 and feed["feed_url"] == "http://stall.test/events.json"
    assert feed["events"][0]["title"] == "Peterborough Radical Bookfair"
    only_stalls = client.get("/events.json?kind=stalls").get_json()
    assert [event["kind"] for event in only_stalls["events"]] == ["stall"]
    assert only_stalls["feed_url"] == "http://stall.test/events.json?kind=stalls"
    atom = client.get("/events.atom")
    assert atom.headers["Cache-Control"] == "public, max-age=300"
    assert len(_atom(atom.data).findall(f"{ATOM}entry")) == 3
    calendar = client.get("/events.ics")
    assert calendar.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert calendar.headers["Cache-Control"] == "public, max-age=300"
    assert b"SUMMARY:Peterborough Radical Bookfair" in calendar.data
    assert b"Secret draft" not in calendar.data


def test_feeds_of_an_unlisted_network_are_empty_and_unknown_groups_404(client, uk):
    assert client.get("/events.json").get_json()["events"] == []
    for path in ("events.json", "events.atom", "embed/events", "embed/publications"):
        assert client.get(f"/g/nowhere/{path}").status_code == 404


# Embeds and framing


def _frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    (directive,) = [part.strip() for part in policy.split(";") if "frame-ancestors" in part]
    return directive


def test_embeds_may_be_framed_only_by_the_groups_sites(client, db, uk):
    response = client.get("/g/uk/embed/events")
    assert response.status_code == 200
    assert _frame_ancestors(response) == "frame-ancestors 'none'", "nobody until listed"
    services.save_public_page_settings(
        db.session,
        uk,
        listed_on_network=False,
        embed_origins="https://www.leftcom.org https://cwo.example.org",
    )
    db.session.commit()
    for path in ("/g/uk/embed/events", "/g/uk/embed/publications"):
        response = client.get(path)
        assert _frame_ancestors(response) == (
            "frame-ancestors https://www.leftcom.org https://cwo.example.org"
        )
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "public, max-age=300"
    for path in ("/g/uk", "/events", "/publications", "/login", "/g/uk/publications"):
        assert _frame_ancestors(client.get(path)) == "frame-ancestors 'none'", path


def test_embeds_are_plain_html_without_script(client, uk):
    events = client.get("/g/uk/embed/events").get_data(as_text=True)
    assert "<script" not in events and "<link" not in events, "unstyled by default"
    assert "Peterborough Radical Bookfair" in events and "Secret draft" not in events
    assert 'href="http://stall.test/e/' in events and 'target="_top"' in events
    assert "https://meet.example.org/private-room" not in events
    assert "Online — the link is sent to people who register" in events
    styled = client.get("/g/uk/embed/events?style=light").get_data(as_text=True)
    assert "/static/css/embed.css" in styled
    titles = client.get("/g/uk/embed/publications").get_data(as_text=True)
    assert "Revolutionary Perspectives No. 24" in titles and "£4.00" in titles
    assert "<script" not in titles


# Link previews and schema.org


def _json_ld(page: str) -> dict:
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return json.loads(block)


def _meta(page: str, name: str) -> str:
    match = re.search(rf'<meta property="{name}" content="([^"]*)">', page)
    assert match, name
    return match.group(1)


def _check_event_shape(data: dict) -> None:
    """The schema.org Event fields search engines read, with their types."""
    assert data["@type"] == "Event"
    assert isinstance(data["name"], str) and data["name"]
    assert WITH_OFFSET.match(data["startDate"]) and WITH_OFFSET.match(data["endDate"])
    assert data["eventStatus"] in (
        "https://schema.org/EventScheduled",
        "https://schema.org/EventCancelled",
    )
    assert data["eventAttendanceMode"] in (
        "https://schema.org/OfflineEventAttendanceMode",
        "https://schema.org/OnlineEventAttendanceMode",
        "https://schema.org/MixedEventAttendanceMode",
    )
    assert data["organizer"]["@type"] == "Organization" and data["organizer"]["name"]
    locations = data["location"] if isinstance(data["location"], list) else [data["location"]]
    for location in locations:
        assert location["@type"] in ("Place", "VirtualLocation")
        if location["@type"] == "Place":
            assert location["address"]["@type"] == "PostalAddress"
        else:
            assert location["url"].startswith("http")


def test_event_page_has_open_graph_and_schema_org_event(client, uk, db):
    stall = db.session.scalar(
        sa.select(Event).where(Event.title == "Peterborough Radical Bookfair")
    )
    page = client.get(f"/e/{stall.public_code}").get_data(as_text=True)
    assert _meta(page, "og:title") == "Peterborough Radical Bookfair · CWO (UK)"
    description = _meta(page, "og:description")
    assert "10:00–17:00" in description and "The George Alcock Centre" in description
    assert _meta(page, "og:url") == f"http://stall.test/e/{stall.public_code}"
    assert _meta(page, "og:locale") == "en_GB"
    data = _json_ld(page)
    assert data["@context"] == "https://schema.org"
    _check_event_shape(data)
    assert data["name"] == "Peterborough Radical Bookfair"
    assert data["startDate"].endswith(("T10:00:00+00:00", "T10:00:00+01:00"))
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert data["location"] == {
        "@type": "Place",
        "name": "The George Alcock Centre",
        "address": {
            "@type": "PostalAddress",
            "streetAddress": "Whittlesey Rd, Stanground, Peterborough",
            "postalCode": "PE2 8QS",
        },
    }
    assert data["organizer"] == {
        "@type": "Organization",
        "name": "CWO (UK)",
        "url": "http://stall.test/g/uk",
    }


def test_cancelled_and_online_events_say_so_in_their_data(client, uk, db):
    events = {event.title: event for event in event_services.upcoming_public_events(db.session, uk)}
    cancelled = _json_ld(
        client.get(f"/e/{events['Called off meeting'].public_code}").get_data(as_text=True)
    )
    assert cancelled["eventStatus"] == "https://schema.org/EventCancelled"
    online_page = client.get(f"/e/{events['Online meeting'].public_code}").get_data(as_text=True)
    online = _json_ld(online_page)
    _check_event_shape(online)
    assert online["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert online["location"] == {
        "@type": "VirtualLocation",
        "url": f"http://stall.test/e/{events['Online meeting'].public_code}",
    }, "the page to register on, never the private link"


def test_group_page_has_open_graph_and_its_events_as_data(client, uk):
    page = client.get("/g/uk").get_data(as_text=True)
    assert _meta(page, "og:title") == "CWO (UK)"
    assert _meta(page, "og:description").startswith("Next: Peterborough Radical Bookfair")
    data = _json_ld(page)
    assert data["@type"] == "Organization" and data["url"] == "http://stall.test/g/uk"
    assert [event["name"] for event in data["event"]] == [
        "Peterborough Radical Bookfair",
        "Called off meeting",
        "Online meeting",
    ]
    for event in data["event"]:
        _check_event_shape(event)


def test_json_ld_cannot_be_closed_by_a_title(client, db, make_group):
    group = make_group(slug="evil")
    event = add_event(db, group, title="</script><script>alert(1)</script>")
    page = client.get(f"/e/{event.public_code}").get_data(as_text=True)
    assert "</script><script>alert(1)" not in page
    assert _json_ld(page)["name"] == "</script><script>alert(1)</script>"
