"""Public event pages on short URLs: the group's events, calendar feeds and an event's page."""

from datetime import datetime, timedelta

import icalendar
import pytest

from stallapp.database import utcnow
from stallapp.events import services
from stallapp.events.models import EventStatus
from stallapp.text import plain_text_to_html
from stallapp.times import utc_to_local
from tests.builders import add_event, add_meeting


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)", timezone="Europe/London")


def _next_year(month, day, hour, minute=0):
    return datetime(utcnow().year + 1, month, day, hour, minute)


@pytest.fixture
def events(db, uk):
    """A published stall, a draft, a cancelled meeting and a past event."""
    stall = add_event(
        db,
        uk,
        title="Peterborough Radical Bookfair",
        kind=services.EventKind.STALL,
        start=_next_year(10, 19, 10),
        hours=7,
        venue_name="The George Alcock Centre",
        address="Whittlesey Rd, Stanground, Peterborough",
        postcode="PE2 8QS",
    )
    draft = add_event(db, uk, title="Secret draft", publish=False)
    cancelled = add_event(db, uk, title="Called off meeting", start=_next_year(11, 2, 15))
    services.set_status(db.session, cancelled, EventStatus.CANCELLED)
    past = add_event(db, uk, title="Last year's fair", start=datetime(2020, 3, 9, 10))
    db.session.commit()
    return {"stall": stall, "draft": draft, "cancelled": cancelled, "past": past}


def test_group_page_lists_upcoming_published_events(client, events):
    response = client.get("/g/uk")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Peterborough Radical Bookfair" in page
    assert "10:00" in page and "5:00" in page
    assert "The George Alcock Centre" in page
    assert f'href="/e/{events["stall"].public_code}"' in page
    assert "Secret draft" not in page
    assert "Last year&#39;s fair" not in page and "Last year's fair" not in page
    cancelled_at = page.index("Called off meeting", page.index("<body"))
    assert "Cancelled" in page[cancelled_at - 200 : cancelled_at]


def test_group_page_in_the_groups_language_and_cached(client, make_group, db):
    montreal = make_group(slug="montreal", timezone="America/Toronto", language="fr")
    add_event(db, montreal, title="Table", start=_next_year(5, 25, 11))
    response = client.get("/g/montreal", headers={"Accept-Language": "en"})
    assert response.headers["Cache-Control"] == "public, max-age=300"
    page = response.get_data(as_text=True)
    assert 'lang="fr"' in page
    assert " mai " in page, "the date is written in French"


def test_unknown_group_is_404(client):
    assert client.get("/g/nowhere").status_code == 404
    assert client.get("/g/nowhere/events.ics").status_code == 404


def test_event_page_shows_time_place_map_and_calendar_link(client, events):
    stall = events["stall"]
    response = client.get(f"/e/{stall.public_code}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, no-cache"
    page = response.get_data(as_text=True)
    assert "Peterborough Radical Bookfair" in page
    assert (
        "https://www.openstreetmap.org/search?query=Whittlesey+Rd%2C+Stanground%2C+Peterborough"
        "%2C+PE2+8QS"
    ) in page
    assert f'href="/e/{stall.public_code}/event.ics"' in page
    assert "<form" not in page, "no registration on this one"


def test_drafts_and_unknown_codes_are_404(client, events):
    assert client.get(f"/e/{events['draft'].public_code}").status_code == 404
    assert client.get(f"/e/{events['draft'].public_code}/event.ics").status_code == 404
    assert client.get("/e/no-such-code").status_code == 404


def test_cancelled_event_page_says_so_and_takes_no_registrations(client, db, uk):
    meeting = add_meeting(db, uk)
    services.set_status(db.session, meeting, EventStatus.CANCELLED)
    db.session.commit()
    page = client.get(f"/e/{meeting.public_code}").get_data(as_text=True)
    assert "This event is cancelled." in page
    assert 'name="email"' not in page


def test_description_is_escaped_with_line_breaks_and_links(client, db, uk):
    event = add_event(
        db,
        uk,
        description="Bring <b>friends</b> & comrades.\nMore: https://example.org/page?a=1&b=2.",
    )
    page = client.get(f"/e/{event.public_code}").get_data(as_text=True)
    assert "Bring &lt;b&gt;friends&lt;/b&gt; &amp; comrades.<br>" in page
    assert (
        '<a href="https://example.org/page?a=1&amp;b=2" rel="nofollow noopener noreferrer">' in page
    )


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a\nb", "a<br>\nb"),
        ("javascript:alert(1)", "javascript:alert(1)"),
        (
            "see (http://example.org/x).",
            'see (<a href="http://example.org/x" rel="nofollow noopener noreferrer">'
            "http://example.org/x</a>).",
        ),
        (
            'https://e.org/"onmouseover="x',
            '<a href="https://e.org/" rel="nofollow noopener noreferrer">https://e.org/</a>'
            "&#34;onmouseover=&#34;x",
        ),
        ("", ""),
    ],
)
def test_plain_text_to_html(text, html):
    assert str(plain_text_to_html(text)) == html


def _parse(response) -> icalendar.Calendar:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    return icalendar.Calendar.from_ical(response.data)


def test_group_calendar_feed(client, events):
    calendar = _parse(client.get("/g/uk/events.ics"))
    entries = {str(entry["summary"]): entry for entry in calendar.walk("VEVENT")}
    assert set(entries) == {"Peterborough Radical Bookfair", "Called off meeting"}
    stall = entries["Peterborough Radical Bookfair"]
    assert str(stall["uid"]) == f"event-{events['stall'].public_code}@stallapp"
    assert stall["dtstart"].params["TZID"] == "Europe/London"
    start = stall.decoded("dtstart")
    assert (start.hour, start.minute, str(start.tzinfo)) == (10, 0, "Europe/London")
    assert start == events["stall"].starts_at
    assert stall.decoded("dtend") == events["stall"].ends_at
    assert "PE2 8QS" in str(stall["location"])
    assert str(stall["status"]) == "CONFIRMED"
    assert str(entries["Called off meeting"]["status"]) == "CANCELLED"
    assert [zone["tzid"] for zone in calendar.walk("VTIMEZONE")] == ["Europe/London"]


def test_uids_are_stable_across_fetches(client, events):
    first = [str(e["uid"]) for e in _parse(client.get("/g/uk/events.ics")).walk("VEVENT")]
    second = [str(e["uid"]) for e in _parse(client.get("/g/uk/events.ics")).walk("VEVENT")]
    assert first == second


def test_single_event_calendar_file(client, events, db):
    stall = events["stall"]
    calendar = _parse(client.get(f"/e/{stall.public_code}/event.ics"))
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["uid"]) == f"event-{stall.public_code}@stallapp"
    assert str(entry["url"]).endswith(f"/e/{stall.public_code}")
    local = utc_to_local(stall.starts_at, "Europe/London")
    assert entry.decoded("dtstart") == local


def test_feed_keeps_recent_history_only(client, db, uk):
    recent = add_event(db, uk, title="Last month", start=datetime.now() - timedelta(days=30))
    add_event(db, uk, title="Years ago", start=datetime(2020, 3, 9, 10))
    calendar = _parse(client.get("/g/uk/events.ics"))
    assert [str(e["summary"]) for e in calendar.walk("VEVENT")] == [recent.title]


def test_public_pages_and_emails_speak_the_groups_language(client, make_group, db, mail):
    montreal = make_group(slug="montreal", timezone="America/Toronto", language="fr")
    meeting = add_meeting(db, montreal, title="Réunion publique")
    page = client.get("/g/montreal", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "À venir" in page
    page = client.get(f"/e/{meeting.public_code}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "S’inscrire" in page and "J’accepte que" in page
    client.post(
        f"/e/{meeting.public_code}",
        data={"name": "Léa", "email": "lea@example.org", "consent": "y"},
        headers={"Accept-Language": "en"},
    )
    (message,) = mail
    assert message.subject == "Vous êtes inscrit·e : Réunion publique"
    assert "annulez ici" in message.body
