"""The personal calendar feed: a secret, regenerable URL serving iCalendar with reminders."""

from datetime import timedelta

import icalendar

from stallapp.rota import shifts
from stallapp.rota.models import ShiftRole
from tests.builders import event_row


def _shown_url(client) -> str:
    """Return the calendar link My shifts shows (path only)."""
    page = client.get("/my-shifts").get_data(as_text=True)
    start = page.index("http://stall.test/calendar/")
    return page[start : page.index(".ics", start) + 4].removeprefix("http://stall.test")


def _feed_url(client) -> str:
    assert client.post("/my-shifts/calendar").status_code == 302
    return _shown_url(client)


def test_feed_lists_shifts_with_alarms_and_stable_uids(client, login_as, db, make_group, make_user):
    uk = make_group(slug="uk")
    max_ = make_user(name="Max", groups={uk: "member"})
    ann = make_user(name="Ann", groups={uk: "member"})
    event = event_row(db.session, uk, title="Bookfair")
    shift = shifts.add_shift(
        db.session,
        event,
        ShiftRole.SETUP,
        event.starts_at - timedelta(hours=1),
        event.starts_at,
        people_needed=2,
        notes="bring the banner",
    )
    cancelled = shifts.add_shift(
        db.session, event, ShiftRole.PACKDOWN, event.ends_at, event.ends_at + timedelta(hours=1)
    )
    shifts.sign_up(db.session, shift, max_)
    shifts.sign_up(db.session, shift, ann)
    shifts.sign_up(db.session, cancelled, max_)
    shifts.cancel_shift(db.session, cancelled)
    db.session.commit()
    login_as(max_)
    url = _feed_url(client)

    client.post("/logout")  # the feed needs no login: the token is the key
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    events = {e.get("summary"): e for e in calendar.walk("VEVENT")}
    setup = events["Set-up · Bookfair"]
    assert setup.decoded("dtstart") == shift.starts_at
    assert setup.decoded("dtend") == shift.ends_at
    assert "The George Alcock Centre" in setup.get("location")
    assert "bring the banner" in setup.get("description") and "With: Ann" in setup.get(
        "description"
    )
    triggers = sorted(alarm.decoded("trigger") for alarm in setup.walk("VALARM"))
    assert triggers == [timedelta(days=-1), timedelta(hours=-2)]
    assert events["Pack-down · Bookfair"].get("status") == "CANCELLED"
    assert response.data.count(b"DTSTART:") == 2 and b"Z\r\n" in response.data  # UTC instants

    again = icalendar.Calendar.from_ical(client.get(url).data)
    assert {e.get("uid") for e in again.walk("VEVENT")} == {
        e.get("uid") for e in calendar.walk("VEVENT")
    }


def test_regenerating_the_link_kills_the_old_one(client, login_as, db, make_group, make_user):
    uk = make_group(slug="uk")
    login_as(make_user(groups={uk: "member"}))
    old = _feed_url(client)
    assert client.get(old).status_code == 200
    # Asking again, or coming back later, shows the same link: subscribed calendars keep working.
    assert _feed_url(client) == old == _shown_url(client)
    page = client.get("/my-shifts").get_data(as_text=True)
    assert f'href="webcal://stall.test{old}"' in page
    assert "Replace the link…" in page and "Get my calendar link" not in page
    assert client.post("/my-shifts/calendar/replace").status_code == 302
    new = _shown_url(client)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.get("/calendar/not-a-token.ics").status_code == 404
