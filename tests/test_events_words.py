"""Numbers and words that agree: times in the locale's clock everywhere (My shifts and reminder
emails too), the time zone's name as it is on the event's date, no map for an online meeting,
and public pages described by their own text."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from stallapp.database import utcnow
from stallapp.events.models import EventKind
from stallapp.rota import shifts
from stallapp.rota.models import ShiftRole
from tests.builders import add_event, event_row


def _text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def _next(month: int, day: int) -> datetime:
    """A naive local 10:00 on the next ``month``/``day`` that is at least a week away."""
    today = utcnow().date()
    year = today.year if (month, day) > (today.month, today.day + 7) else today.year + 1
    return datetime(year, month, day, 10)


def _reminder_start() -> datetime:
    """A start 26 to 46 hours from now, well inside the reminders' 24–48 hour window, whose
    two-hour shift ends on the day it starts in London, whatever the hour the suite runs at."""
    london = ZoneInfo("Europe/London")
    for hours in range(26, 47):
        start = (utcnow() + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
        end = start + timedelta(hours=2)
        if start.astimezone(london).date() == end.astimezone(london).date():
            return start
    raise AssertionError("twenty hours in a row cross midnight")


def test_my_shifts_and_the_reminder_use_the_groups_clock(
    client, db, login_as, make_group, make_user, runner, mail
):
    uk = make_group(slug="uk", currency="GBP")
    max_ = make_user(email="max@example.org", name="Max", groups={uk: "member"})
    max_.locale = "en"
    event = event_row(db.session, uk, starts_at=_reminder_start())
    shift = shifts.add_shift(
        db.session,
        event,
        ShiftRole.STAFFING,
        event.starts_at,
        event.starts_at + timedelta(hours=2),
    )
    shifts.sign_up(db.session, shift, max_)
    db.session.commit()
    login_as(max_)
    page = _text(client.get("/my-shifts"))
    assert re.search(r"\d\d:\d\d–\d\d:\d\d", page)
    assert " AM" not in page and " PM" not in page

    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    reminder = next(message for message in mail if message.to == "max@example.org")
    assert re.search(r"\d\d:\d\d–\d\d:\d\d", reminder.body)
    assert " AM" not in reminder.body and " PM" not in reminder.body


def test_the_zone_is_named_as_it_is_on_the_events_day(client, db, login_as, make_group, make_user):
    montreal = make_group(
        slug="montreal", timezone="America/Toronto", currency="CAD", language="fr"
    )
    organiser = make_user(groups={montreal: "organiser"})
    organiser.locale = "fr"
    db.session.commit()
    winter = add_event(db, montreal, start=_next(1, 15), title="Table en hiver")
    summer = add_event(db, montreal, start=_next(7, 15), title="Table en été")
    login_as(organiser)
    winter_page = _text(client.get(f"/groups/montreal/events/{winter.id}"))
    summer_page = _text(client.get(f"/groups/montreal/events/{summer.id}"))
    assert "heure normale de l’Est" in winter_page and "avancée" not in winter_page
    assert "heure avancée de l’Est" in summer_page
    public = _text(client.get(f"/e/{winter.public_code}"))
    assert "heure normale de l’Est" in public


def test_an_online_meeting_has_no_map_link(client, db, make_group):
    nyc = make_group(slug="nyc", timezone="America/New_York", currency="USD")
    online = add_event(
        db,
        nyc,
        kind=EventKind.ONLINE_MEETING,
        title="Online discussion",
        venue_name="Online",
        address="",
        postcode="",
        online_url="https://meet.example.org/iwg",
    )
    in_person = add_event(db, nyc, title="Peculier Pub meeting")
    assert "OpenStreetMap" not in _text(client.get(f"/e/{online.public_code}"))
    assert "Find it on OpenStreetMap" in _text(client.get(f"/e/{in_person.public_code}"))


def test_public_pages_are_described_by_their_own_text(client, db, make_group):
    uk = make_group(slug="uk", name="CWO (UK)")
    event = add_event(
        db,
        uk,
        title="Bookfair stall",
        description="Come and talk to us\n about the war  and the class struggle. " * 8,
    )
    page = client.get(f"/e/{event.public_code}").get_data(as_text=True)
    described = re.search(r'<meta name="description" content="([^"]*)">', page).group(1)
    assert described.startswith("Come and talk to us about the war and the class struggle.")
    assert len(described) <= 160 and described.endswith("…")
    group_page = client.get("/g/uk").get_data(as_text=True)
    assert re.search(r'<meta name="description" content="[^"]*Bookfair stall', group_page)
    for path in ("/g/uk/join", "/g/uk/contact", "/g/uk/publications"):
        text = client.get(path).get_data(as_text=True)
        assert re.search(r'<meta name="description" content="[^"]*CWO \(UK\)', text), path


def test_no_page_has_two_csrf_token_ids(app, client, db, login_as, make_group, make_user):
    uk = make_group(slug="uk")
    login_as(make_user(groups={uk: "organiser"}))
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/groups/uk/stock/public-page").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 2
    assert 'id="csrf_token"' not in page


def test_the_qr_print_page_names_its_code(client, db, login_as, make_group, make_user):
    from stallapp.qr.models import QrCode

    uk = make_group(slug="uk")
    login_as(make_user(groups={uk: "organiser"}))
    client.post("/groups/uk/qr", data={"label": "table card", "purpose": "join", "event_id": "0"})
    code = db.session.scalar(sa.select(QrCode))
    page = client.get(f"/groups/uk/qr/{code.id}/print/a6").get_data(as_text=True)
    assert "<main>" in page
    assert re.search(r'<svg[^>]*role="img"[^>]*aria-label="QR code for http://stall.test/q/', page)
