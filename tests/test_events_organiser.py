"""Organisers create, change, publish, cancel and delete their group's events; members look on."""

import csv
import io
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from stallapp.events import services
from stallapp.events.models import Event, EventSeries, EventStatus, Registration
from stallapp.events.series import Frequency, SeriesRule
from tests.builders import add_event, add_meeting, register


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)", timezone="Europe/London")


@pytest.fixture
def organiser(make_user, uk):
    return make_user(name="Olive", groups={uk: "organiser"})


@pytest.fixture
def member(make_user, uk):
    return make_user(name="Max", groups={uk: "member"})


STALL_FORM = {
    "kind": "stall",
    "title": "Peterborough Radical Bookfair",
    "start_date": "2024-10-19",
    "start_time": "10:00",
    "end_time": "17:00",
    "end_date": "",
    "timezone": "Europe/London",
    "venue_name": "The George Alcock Centre",
    "address": "Whittlesey Rd, Stanground, Peterborough",
    "postcode": "PE2 8QS",
    "online_url": "",
    "description": "Come and see us.",
    "capacity": "",
}


def _only_event(db) -> Event:
    db.session.expire_all()
    return db.session.scalars(sa.select(Event)).one()


def test_organiser_creates_a_stall_stored_in_utc(client, login_as, organiser, db):
    login_as(organiser)
    response = client.post("/groups/uk/events/new", data=STALL_FORM)
    assert response.status_code == 302
    event = _only_event(db)
    assert response.headers["Location"].endswith(f"/groups/uk/events/{event.id}")
    # 10:00 in London in October is 09:00 UTC (British Summer Time).
    assert event.starts_at == datetime(2024, 10, 19, 9, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2024, 10, 19, 16, 0, tzinfo=UTC)
    assert event.status == EventStatus.DRAFT
    assert len(event.public_code) >= 8
    page = client.get(f"/groups/uk/events/{event.id}").get_data(as_text=True)
    assert "Peterborough Radical Bookfair" in page
    # A GBP group reads British conventions: the 24-hour clock.
    assert "10:00" in page and "17:00" in page
    assert "https://www.openstreetmap.org/search?query=Whittlesey+Rd%2C+Stanground%2C" in page


def test_publish_now_and_public_codes_differ(client, login_as, organiser, db):
    login_as(organiser)
    client.post("/groups/uk/events/new", data={**STALL_FORM, "publish": "y"})
    client.post("/groups/uk/events/new", data={**STALL_FORM, "title": "Second"})
    events = db.session.scalars(sa.select(Event).order_by(Event.id)).all()
    assert [event.status for event in events] == [EventStatus.PUBLISHED, EventStatus.DRAFT]
    assert events[0].public_code != events[1].public_code


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_time": "09:00"}, "The end must be after the start."),
        ({"timezone": "Europe/Peterborough"}, "Unknown time zone."),
        # Clocks go forward at 01:00 on 31 March 2024 in London: 01:30 never happens.
        ({"start_date": "2024-03-31", "start_time": "01:30"}, "does not exist on that day"),
        ({"online_url": "javascript:alert(1)"}, "Invalid URL."),
    ],
)
def test_bad_times_are_refused_on_the_form(client, login_as, organiser, db, changes, message):
    login_as(organiser)
    response = client.post("/groups/uk/events/new", data={**STALL_FORM, **changes})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="Peterborough Radical Bookfair"' in page, "the form keeps what was typed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


@pytest.mark.parametrize(
    ("start", "end", "zone", "code"),
    [
        (
            datetime(2024, 10, 19, 10),
            datetime(2024, 10, 19, 9),
            "Europe/London",
            "ends_before_starts",
        ),
        (
            datetime(2024, 10, 19, 10),
            datetime(2024, 10, 19, 10),
            "Europe/London",
            "ends_before_starts",
        ),
        (
            datetime(2024, 10, 19, 10),
            datetime(2024, 10, 19, 11),
            "Nowhere/City",
            "unknown_timezone",
        ),
        (
            datetime(2024, 3, 10, 2, 30),
            datetime(2024, 3, 10, 4),
            "America/New_York",
            "nonexistent_local_time",
        ),
    ],
)
def test_event_validation_in_the_service(db, uk, start, end, zone, code):
    from tests.builders import details

    with pytest.raises(services.EventFieldError) as raised:
        services.create_event(db.session, uk, details(uk, start=start, end=end, timezone=zone))
    assert raised.value.code == code


def test_an_event_ending_on_a_later_day(client, login_as, organiser, db):
    login_as(organiser)
    client.post(
        "/groups/uk/events/new",
        data={**STALL_FORM, "start_time": "22:00", "end_time": "02:00", "end_date": "2024-10-20"},
    )
    event = _only_event(db)
    assert event.ends_at == datetime(2024, 10, 20, 1, 0, tzinfo=UTC)


def test_event_in_another_zone_than_the_group(client, login_as, organiser, db):
    login_as(organiser)
    client.post(
        "/groups/uk/events/new",
        data={**STALL_FORM, "timezone": "America/New_York", "start_time": "15:30"},
    )
    event = _only_event(db)
    assert event.timezone == "America/New_York"
    assert event.starts_at == datetime(2024, 10, 19, 19, 30, tzinfo=UTC)


def test_organiser_edits_an_event(client, login_as, organiser, uk, db):
    event = add_event(db, uk, publish=False)
    login_as(organiser)
    form = client.get(f"/groups/uk/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="Public meeting"' in form
    assert 'value="18:00"' in form
    response = client.post(
        f"/groups/uk/events/{event.id}/edit", data={**STALL_FORM, "title": "Changed"}
    )
    assert response.status_code == 302
    event = _only_event(db)
    assert event.title == "Changed"
    assert event.starts_at == datetime(2024, 10, 19, 9, 0, tzinfo=UTC)


def test_publish_cancel_and_delete(client, login_as, organiser, uk, db, mail):
    event = add_event(db, uk, publish=False)
    login_as(organiser)
    client.post(f"/groups/uk/events/{event.id}/publish")
    assert _only_event(db).status == EventStatus.PUBLISHED
    client.post(f"/groups/uk/events/{event.id}/cancel")
    assert _only_event(db).status == EventStatus.CANCELLED
    assert client.get(f"/groups/uk/events/{event.id}/delete").status_code == 200
    response = client.post(f"/groups/uk/events/{event.id}/delete")
    assert response.headers["Location"].endswith("/groups/uk/events/")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


def test_cancelling_tells_the_people_registered(client, login_as, organiser, uk, db, mail):
    meeting = add_meeting(db, uk, capacity=1)
    register(db, meeting, "first@example.org", name="First")
    register(db, meeting, "second@example.org", name="Second")
    mail.clear()
    login_as(organiser)
    client.post(f"/groups/uk/events/{meeting.id}/cancel")
    assert sorted(message.to for message in mail) == ["first@example.org", "second@example.org"]
    assert all(message.subject.startswith("Cancelled:") for message in mail)


def test_an_event_with_registrations_is_cancelled_not_deleted(client, login_as, organiser, uk, db):
    meeting = add_meeting(db, uk)
    register(db, meeting, "first@example.org")
    login_as(organiser)
    response = client.post(f"/groups/uk/events/{meeting.id}/delete", follow_redirects=True)
    assert "Cancel it instead" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 1


def test_list_shows_upcoming_first_then_past(client, login_as, member, uk, db):
    add_event(db, uk, title="Long ago", start=datetime(2020, 5, 1, 10))
    add_event(db, uk, title="Later", start=datetime(2099, 6, 1, 10))
    add_event(db, uk, title="Sooner", start=datetime(2099, 5, 1, 10))
    add_event(db, uk, title="Less long ago", start=datetime(2021, 5, 1, 10))
    login_as(member)
    page = client.get("/groups/uk/events/").get_data(as_text=True)
    positions = [page.index(title) for title in ("Sooner", "Later", "Less long ago", "Long ago")]
    assert positions == sorted(positions)
    assert page.index("Upcoming") < positions[0] and page.index("Past") < positions[2]
    assert "New event" not in page, "members only look"


def test_members_see_events_but_not_the_people(client, login_as, member, uk, db):
    meeting = add_meeting(db, uk)
    register(db, meeting, "private@example.org", name="Private Person")
    login_as(member)
    page = client.get(f"/groups/uk/events/{meeting.id}").get_data(as_text=True)
    assert "Public meeting" in page and "1 registered" in page
    assert "Private Person" not in page and "private@example.org" not in page
    assert client.get(f"/groups/uk/events/{meeting.id}/edit").status_code == 403
    assert client.post(f"/groups/uk/events/{meeting.id}/cancel").status_code == 403
    assert client.get(f"/groups/uk/events/{meeting.id}/registrations.csv").status_code == 403


def test_organisers_of_another_group_get_nothing(client, login_as, make_group, make_user, uk, db):
    meeting = add_meeting(db, uk)
    nyc = make_group(slug="nyc")
    stranger = make_user(groups={nyc: "organiser"})
    login_as(stranger)
    for url in (
        "/groups/uk/events/",
        f"/groups/uk/events/{meeting.id}",
        f"/groups/uk/events/{meeting.id}/edit",
        f"/groups/uk/events/{meeting.id}/registrations.csv",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/groups/uk/events/{meeting.id}/delete").status_code == 404
    # Nor through their own group's URLs.
    assert client.get(f"/groups/nyc/events/{meeting.id}").status_code == 404
    assert client.post(f"/groups/nyc/events/{meeting.id}/cancel").status_code == 404
    assert _only_event(db).status == EventStatus.PUBLISHED


def test_door_check_in(client, login_as, organiser, uk, db):
    meeting = add_meeting(db, uk)
    registration = register(db, meeting, "ada@example.org", name="Ada").registration
    login_as(organiser)
    page = client.get(f"/groups/uk/events/{meeting.id}").get_data(as_text=True)
    assert "Ada" in page and "Check in" in page
    url = f"/groups/uk/events/{meeting.id}/registrations/{registration.id}/check-in"
    response = client.post(url, data={"checked_in": "1"})
    assert response.headers["Location"].endswith(f"#registration-{registration.id}")
    db.session.expire_all()
    assert db.session.get(Registration, registration.id).checked_in_at is not None
    page = client.get(f"/groups/uk/events/{meeting.id}").get_data(as_text=True)
    assert "Checked in" in page and "1 checked in" in page
    client.post(url, data={"checked_in": "0"})
    db.session.expire_all()
    assert db.session.get(Registration, registration.id).checked_in_at is None


def test_check_in_of_another_events_registration_is_404(client, login_as, organiser, uk, db):
    meeting = add_meeting(db, uk)
    other = add_meeting(db, uk, title="Other")
    registration = register(db, other, "ada@example.org").registration
    login_as(organiser)
    url = f"/groups/uk/events/{meeting.id}/registrations/{registration.id}/check-in"
    assert client.post(url).status_code == 404


def test_csv_export(client, login_as, organiser, uk, db):
    meeting = add_meeting(db, uk, capacity=1)
    ana = register(
        db, meeting, "ana@example.org", name="Ana Ñúñez", note='=HYPERLINK("x")'
    ).registration
    register(db, meeting, "bo@example.org", name="=1+2")
    login_as(organiser)
    response = client.get(f"/groups/uk/events/{meeting.id}/registrations.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")  # a byte-order mark, so a spreadsheet reads the accents
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0] == [
        "status",
        "name",
        "email",
        "note",
        "registered_at",
        "checked_in_at",
        "cancelled_at",
        "consent",
    ]
    assert rows[1][:4] == ["registered", "Ana Ñúñez", "ana@example.org", '\'=HYPERLINK("x")']
    # The time in the event's zone, ISO 8601 with its offset, to the second.
    registered_at = datetime.fromisoformat(rows[1][4])
    assert registered_at.utcoffset() is not None
    assert registered_at == ana.created_at.replace(microsecond=0)
    assert (
        registered_at.utcoffset()
        == ana.created_at.astimezone(ZoneInfo("Europe/London")).utcoffset()
    )
    assert rows[1][5:7] == ["", ""]
    # A name typed to look like a formula is kept as text.
    assert rows[2][:3] == ["waiting", "'=1+2", "bo@example.org"]
    assert rows[1][7] == "I agree."


def test_raising_capacity_moves_people_up(client, login_as, organiser, uk, db, mail):
    meeting = add_meeting(db, uk, capacity=1)
    register(db, meeting, "first@example.org")
    waiting = register(db, meeting, "second@example.org").registration
    mail.clear()
    login_as(organiser)
    form = {
        **STALL_FORM,
        "title": meeting.title,
        "start_date": "2099-01-01",
        "registration_required": "y",
        "capacity": "2",
    }
    assert client.post(f"/groups/uk/events/{meeting.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, waiting.id).status.value == "registered"
    assert [message.to for message in mail] == ["second@example.org"]


def _series(db, group, **template):
    values = {
        "kind": "public_meeting",
        "title": "Reading group",
        "timezone": group.timezone,
        "start_time": time(19, 0),
        "end_time": time(21, 0),
    }
    values.update(template)
    series = services.create_series(
        db.session,
        group,
        SeriesRule(
            Frequency.WEEKLY, first_day=date(2099, 3, 2), last_day=date(2099, 3, 31), weekdays=(1,)
        ),
        services.SeriesTemplate(**values),
        publish=True,
    )
    db.session.commit()
    return sorted(series.events, key=lambda event: event.starts_at)


def test_organiser_creates_a_series_from_the_form(client, login_as, organiser, db):
    login_as(organiser)
    response = client.post(
        "/groups/uk/events/series/new",
        data={
            "kind": "public_meeting",
            "title": "IWG monthly meeting",
            "frequency": "monthly",
            "nth": "-1",
            "monthly_weekday": "5",
            "first_day": "2099-01-01",
            "last_day": "2099-03-31",
            "start_time": "15:30",
            "end_time": "17:30",
            "timezone": "America/New_York",
            "venue_name": "Peculier Pub",
            "registration_required": "y",
            "capacity": "30",
            "publish": "y",
        },
    )
    assert response.status_code == 302
    page = client.get("/groups/uk/events/").get_data(as_text=True)
    assert "3 events created: Last Saturday of each month, 15:30" in page
    events = db.session.scalars(sa.select(Event).order_by(Event.starts_at)).all()
    assert [event.starts_at.date() for event in events] == [
        date(2099, 1, 31),
        date(2099, 2, 28),
        date(2099, 3, 28),
    ]


def test_series_form_with_a_list_of_dates_and_a_bad_one(client, login_as, organiser, db):
    login_as(organiser)
    data = {
        "kind": "discussion",
        "title": "Russian Revolution",
        "frequency": "dates",
        "dates": "2099-08-13\n2099-08-20\nnot a date",
        "start_time": "19:00",
        "end_time": "21:00",
        "timezone": "America/New_York",
    }
    page = client.post("/groups/uk/events/series/new", data=data).get_data(as_text=True)
    assert "not a date is not a date like 2024-08-13." in page
    data["dates"] = "2099-08-13\n2099-08-20\n2099-08-27"
    assert client.post("/groups/uk/events/series/new", data=data).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 3
    series = db.session.scalars(sa.select(EventSeries)).one()
    assert series.rrule == "" and series.frequency == "dates"


def test_series_form_reports_a_rule_that_gives_nothing(client, login_as, organiser, db):
    login_as(organiser)
    page = client.post(
        "/groups/uk/events/series/new",
        data={
            "kind": "discussion",
            "title": "Nothing",
            "frequency": "weekly",
            "first_day": "2099-08-13",
            "last_day": "2099-08-01",
            "weekdays": ["1"],
            "start_time": "19:00",
            "end_time": "21:00",
            "timezone": "Europe/London",
        },
    ).get_data(as_text=True)
    assert "The last day must not be before the first day." in page


def test_edit_one_occurrence_only(client, login_as, organiser, uk, db):
    events = _series(db, uk)
    login_as(organiser)
    third = events[2]
    client.post(
        f"/groups/uk/events/{third.id}/edit",
        data={
            **STALL_FORM,
            "title": "Special session",
            "start_date": "2099-03-16",
            "start_time": "18:00",
            "end_time": "20:00",
            "scope": "one",
        },
    )
    db.session.expire_all()
    titles = [db.session.get(Event, event.id).title for event in events]
    assert titles == [
        "Reading group",
        "Reading group",
        "Special session",
        "Reading group",
        "Reading group",
    ]


def test_edit_this_and_all_future_events(client, login_as, organiser, uk, db):
    events = _series(db, uk)
    login_as(organiser)
    third = events[2]
    form = client.get(f"/groups/uk/events/{third.id}/edit").get_data(as_text=True)
    assert "This and all future events in the series" in form
    client.post(
        f"/groups/uk/events/{third.id}/edit",
        data={
            **STALL_FORM,
            "title": "Reading group (new pub)",
            "start_date": "2099-03-18",  # from Tuesday 17th to Wednesday 18th
            "start_time": "18:30",
            "end_time": "20:00",
            "venue_name": "The new pub",
            "scope": "future",
        },
    )
    db.session.expire_all()
    after = [db.session.get(Event, event.id) for event in events]
    assert [event.title for event in after[:2]] == ["Reading group"] * 2
    assert [event.title for event in after[2:]] == ["Reading group (new pub)"] * 3
    assert {event.venue_name for event in after[2:]} == {"The new pub"}
    local_starts = [event.starts_at.astimezone(ZoneInfo("Europe/London")) for event in after]
    assert [start.strftime("%m-%d %H:%M") for start in local_starts] == [
        "03-03 19:00",
        "03-10 19:00",
        "03-18 18:30",
        "03-25 18:30",
        "04-01 18:30",
    ]
    # London's clocks go forward on 29 March 2099: same wall-clock time, an hour earlier in UTC.
    assert after[3].starts_at == datetime(2099, 3, 25, 18, 30, tzinfo=UTC)
    assert after[4].starts_at == datetime(2099, 4, 1, 17, 30, tzinfo=UTC)
    series = db.session.scalars(sa.select(EventSeries)).one()
    assert series.title == "Reading group (new pub)"
    assert series.local_start_time == time(18, 30)
    assert series.duration_minutes == 90


def test_deleting_an_event_takes_its_qr_codes_along(client, login_as, organiser, uk, db):
    from stallapp.qr.models import QrCode, QrPurpose
    from stallapp.qr.services import create_qr_code

    event = add_event(db, uk)
    create_qr_code(db.session, uk, QrPurpose.EVENT, "poster", event=event)
    db.session.commit()
    login_as(organiser)
    assert client.post(f"/groups/uk/events/{event.id}/delete").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QrCode)) == 0


def test_an_event_a_ledger_row_points_at_is_refused_not_broken(db, uk):
    """Sales and stock movements restrict deleting their event; the organiser is told why."""
    event = add_event(db, uk)
    db.session.execute(
        sa.text(
            "CREATE TABLE ledger_probe (id INTEGER PRIMARY KEY, "
            "event_id INTEGER REFERENCES event (id) ON DELETE RESTRICT)"
        )
    )
    db.session.execute(sa.text("INSERT INTO ledger_probe VALUES (1, :id)"), {"id": event.id})
    db.session.commit()
    try:
        with pytest.raises(services.EventHasRegistrations) as raised:
            services.delete_event(db.session, event)
        assert raised.value.code == "has_records"
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 1
    finally:
        db.session.rollback()
        db.session.execute(sa.text("DROP TABLE ledger_probe"))
        db.session.commit()
