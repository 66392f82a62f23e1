"""Rota pages through the client: My shifts, sign-up, withdraw, cover, organiser tools, emails."""

import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from stallapp.database import utcnow
from stallapp.rota import cover, lists, shifts, unavailability
from stallapp.rota.models import Assignment, CoverRequest, Shift, ShiftRole, Unavailability
from tests.builders import event_row
from tests.conftest import link_in, path_of


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)")


@pytest.fixture
def people(uk, make_user):
    return {
        "organiser": make_user(
            email="olive@example.org", name="Olive Organiser", groups={uk: "organiser"}
        ),
        "max": make_user(email="max@example.org", name="Max Member", groups={uk: "member"}),
        "ann": make_user(email="ann@example.org", name="Ann Member", groups={uk: "member"}),
    }


@pytest.fixture
def bookfair(db, uk):
    event = event_row(db.session, uk, title="Peterborough Radical Bookfair", hours=7)
    db.session.commit()
    return event


def _shift(db, event, needed=2, offset_hours=0, hours=2, role=ShiftRole.STAFFING):
    start = event.starts_at + timedelta(hours=offset_hours)
    shift = shifts.add_shift(
        db.session, event, role, start, start + timedelta(hours=hours), people_needed=needed
    )
    db.session.commit()
    return shift


def _active(db, shift):
    return db.session.scalars(
        sa.select(Assignment.user_id).where(
            Assignment.shift_id == shift.id, Assignment.withdrawn_at.is_(None)
        )
    ).all()


def test_my_shifts_shows_the_next_shift_with_people_place_and_organiser(
    client, login_as, db, people, bookfair
):
    first = _shift(db, bookfair, offset_hours=0)
    later = _shift(db, bookfair, offset_hours=4, role=ShiftRole.PACKDOWN)
    shifts.sign_up(db.session, first, people["max"])
    shifts.sign_up(db.session, first, people["ann"])
    shifts.sign_up(db.session, later, people["max"])
    db.session.commit()
    login_as(people["max"])
    page = client.get("/my-shifts").get_data(as_text=True)
    next_section = page.split('class="card next-shift"')[1].split("</section>")[0]
    assert "Staffing · Peterborough Radical Bookfair" in next_section
    assert "10:00" in next_section  # the event's local time, not UTC
    assert "The George Alcock Centre" in next_section
    assert "With: Ann Member" in next_section
    assert "olive@example.org" in next_section
    assert page.index("Your next shift") < page.index("Pack-down · Peterborough")


def test_sign_up_in_one_tap_then_withdraw_with_a_reason(client, login_as, db, people, bookfair):
    shift = _shift(db, bookfair, needed=1)
    login_as(people["max"])
    page = client.get("/my-shifts").get_data(as_text=True)
    assert "Open shifts in your groups" in page and "1 place free" in page
    response = client.post(f"/groups/uk/rota/shifts/{shift.id}/sign-up", follow_redirects=True)
    assert "You are on “Staffing · Peterborough Radical Bookfair”." in response.get_data(
        as_text=True
    )
    assert _active(db, shift) == [people["max"].id]
    (assignment_id,) = db.session.scalars(sa.select(Assignment.id)).all()

    response = client.post(f"/my-shifts/{assignment_id}/withdraw", data={"reason": " "})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="reason-{assignment_id}-error">Please give a short reason.' in page
    assert f'aria-describedby="reason-{assignment_id}-error"' in page
    assert _active(db, shift) == [people["max"].id]

    response = client.post(
        f"/my-shifts/{assignment_id}/withdraw", data={"reason": "family"}, follow_redirects=True
    )
    assert "You are off" in response.get_data(as_text=True)
    assert _active(db, shift) == []


def test_my_shifts_forms_carry_a_csrf_token_and_ids_of_their_own(
    app, client, login_as, db, people, bookfair
):
    places = [
        shifts.sign_up(db.session, _shift(db, bookfair, offset_hours=hours), people["max"])
        for hours in (0, 4)
    ]
    _shift(db, bookfair, offset_hours=2)  # open, to sign up for
    unavailability.mark_unavailable(db.session, people["max"], utcnow().date() + timedelta(days=3))
    db.session.commit()
    login_as(people["max"])
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/my-shifts").get_data(as_text=True)
    forms = re.findall(r'<form method="post".*?</form>', page, flags=re.DOTALL)
    assert len(forms) >= 7  # two withdraw, two cover, sign up, remove a day, mark, calendar
    assert all('name="csrf_token"' in form for form in forms)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for place in places:
        assert f'<label for="reason-{place.id}">' in page
        assert f'<label for="cover-message-{place.id}">' in page


def test_full_shift_tells_the_second_member(client, login_as, db, people, bookfair):
    shift = _shift(db, bookfair, needed=1)
    shifts.sign_up(db.session, shift, people["ann"])
    db.session.commit()
    login_as(people["max"])
    response = client.post(f"/groups/uk/rota/shifts/{shift.id}/sign-up", follow_redirects=True)
    assert "That shift has just been filled." in response.get_data(as_text=True)
    assert _active(db, shift) == [people["ann"].id]


def test_late_withdrawal_emails_the_organisers(client, login_as, db, people, uk, mail):
    soon = event_row(db.session, uk, starts_at=utcnow() + timedelta(hours=6))
    shift = _shift(db, soon)
    place = shifts.sign_up(db.session, shift, people["max"])
    db.session.commit()
    login_as(people["max"])
    client.post(f"/my-shifts/{place.id}/withdraw", data={"reason": "flu"})
    assert _active(db, shift) == []
    assert [m.to for m in mail] == ["olive@example.org"]
    assert "Max Member cannot do Staffing" in mail[0].subject
    assert "flu" in mail[0].body


def test_early_withdrawal_takes_the_member_off_and_emails_nobody(
    client, login_as, db, people, bookfair, mail
):
    place = shifts.sign_up(db.session, _shift(db, bookfair), people["max"])
    db.session.commit()
    login_as(people["max"])
    response = client.post(
        f"/my-shifts/{place.id}/withdraw", data={"reason": "away"}, follow_redirects=True
    )
    assert "You are off “Staffing · Peterborough Radical Bookfair”." in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    withdrawn = db.session.get(Assignment, place.id)
    assert withdrawn.withdrawn_at is not None and withdrawn.withdrawal_reason == "away"
    assert mail == []  # ten days ahead: the organisers need not hear of it


def test_someone_elses_assignment_is_not_found(client, login_as, db, people, bookfair):
    place = shifts.sign_up(db.session, _shift(db, bookfair), people["ann"])
    db.session.commit()
    login_as(people["max"])
    assert client.post(f"/my-shifts/{place.id}/withdraw", data={"reason": "x"}).status_code == 404
    assert client.post(f"/my-shifts/{place.id}/cover", data={}).status_code == 404
    assert _active(db, place.shift) == [people["ann"].id]


def test_ask_for_cover_and_take_it_in_one_tap(client, login_as, db, people, bookfair, mail):
    shift = _shift(db, bookfair, needed=2)
    place = shifts.sign_up(db.session, shift, people["max"])
    db.session.commit()
    login_as(people["max"])
    client.post(f"/my-shifts/{place.id}/cover", data={"message": "Sorry, hospital"})
    (request,) = db.session.scalars(sa.select(CoverRequest)).all()
    assert request.assignment_id == place.id and request.message == "Sorry, hospital"
    asked = [m for m in mail if m.subject.startswith("Can you cover")]
    assert [m.to for m in asked] == ["ann@example.org", "olive@example.org"]
    assert any(m.subject.startswith("Max Member asked for cover") for m in mail)
    mail.clear()

    client.post("/logout")
    login_as(people["ann"])
    cover_path = path_of(link_in(asked[0]))
    my_page = client.get("/my-shifts").get_data(as_text=True)
    assert "Can you cover?" in my_page and "Max Member cannot make it." in my_page
    assert f'action="{cover_path}"' in my_page
    assert "I’ll take it" in client.get(cover_path).get_data(as_text=True)
    response = client.post(cover_path, follow_redirects=True)
    assert "Thank you!" in response.get_data(as_text=True)
    assert _active(db, shift) == [people["ann"].id]
    assert sorted(m.to for m in mail) == ["max@example.org", "olive@example.org"]
    assert "Ann Member is covering" in mail[0].subject

    response = client.post(cover_path, follow_redirects=True)
    assert "already taken it over" in response.get_data(as_text=True)


def test_unavailable_days_are_added_refused_twice_and_removed(client, login_as, db, people):
    login_as(people["max"])
    day = (utcnow() + timedelta(days=9)).date().isoformat()
    response = client.post("/my-shifts/unavailable", data={"day": day, "note": "holiday"})
    assert response.status_code == 302
    (unavailable,) = db.session.scalars(sa.select(Unavailability)).all()
    assert unavailable.day.isoformat() == day and unavailable.note == "holiday"
    assert unavailable.user_id == people["max"].id
    response = client.post("/my-shifts/unavailable", data={"day": day})
    assert response.status_code == 400
    assert "You have already marked that day." in response.get_data(as_text=True)
    response = client.post("/my-shifts/unavailable", data={"day": "not a date"})
    assert response.status_code == 400
    assert "Not a valid date value." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unavailability)) == 1
    response = client.post(f"/my-shifts/unavailable/{unavailable.id}/delete", follow_redirects=True)
    assert "That day is open again." in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Unavailability)).all() == []


def test_someone_elses_unavailable_day_is_not_found(client, login_as, db, people):
    day = (utcnow() + timedelta(days=9)).date()
    unavailable = unavailability.mark_unavailable(db.session, people["ann"], day)
    db.session.commit()
    login_as(people["max"])
    assert client.post(f"/my-shifts/unavailable/{unavailable.id}/delete").status_code == 404
    assert db.session.get(Unavailability, unavailable.id) is not None


def test_organiser_fills_a_stall_day_and_sees_gaps(client, login_as, db, people, bookfair):
    login_as(people["organiser"])
    response = client.post(
        f"/groups/uk/rota/events/{bookfair.id}/stall-day",
        data={
            "setup": "60",
            "setup_people": "2",
            "block": "120",
            "staffing_people": "2",
            "packdown": "30",
            "packdown_people": "1",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 6
    page = client.get(f"/groups/uk/rota/events/{bookfair.id}").get_data(as_text=True)
    assert page.count("0 of 2 · short") == 5
    assert "0 of 1 · short" in page and "fill-short" in page


def test_stall_day_form_rejects_bad_numbers_and_changes_nothing(
    client, login_as, db, people, bookfair
):
    login_as(people["organiser"])
    response = client.post(
        f"/groups/uk/rota/events/{bookfair.id}/stall-day",
        data={
            "setup": "60",
            "setup_people": "0",
            "block": "120",
            "staffing_people": "2",
            "packdown": "30",
            "packdown_people": "1",
        },
    )
    assert response.status_code == 200
    assert "Between 1 and 50." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 0


def test_new_shift_in_the_events_zone_and_a_skipped_hour_is_refused(
    client, login_as, db, people, make_group
):
    nyc = make_group(slug="nyc", timezone="America/New_York")
    from stallapp.accounts.models import Role
    from stallapp.accounts.services import add_membership

    add_membership(db.session, people["organiser"], nyc, Role.ORGANISER)
    event = event_row(db.session, nyc, title="Meeting", venue_name="Peculier Pub")
    db.session.commit()
    login_as(people["organiser"])
    local_day = event.starts_at.astimezone(ZoneInfo(event.timezone)).date()
    data = {
        "role": "chair",
        "day": local_day.isoformat(),
        "start": "09:30",
        "end": "11:00",
        "people_needed": "1",
        "notes": "bring the banner",
    }
    assert (
        client.post(f"/groups/nyc/rota/events/{event.id}/shifts/new", data=data).status_code == 302
    )
    shift = db.session.scalar(sa.select(Shift))
    assert shift.notes == "bring the banner"
    offset = event.starts_at.astimezone(ZoneInfo(event.timezone)).utcoffset()
    assert (shift.starts_at + offset).strftime("%H:%M") == "09:30"

    response = client.post(
        f"/groups/nyc/rota/events/{event.id}/shifts/new", data={**data, "role": "custom"}
    )
    assert "Give the role a name." in response.get_data(as_text=True)
    response = client.post(
        f"/groups/nyc/rota/events/{event.id}/shifts/new", data={**data, "day": "2020-01-01"}
    )
    assert "within 12 hours of its event" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == 1


def test_assign_warns_about_unavailability_then_assigns_on_confirmation(
    client, login_as, db, people, bookfair, mail
):
    shift = _shift(db, bookfair)
    local_day = bookfair.starts_at.astimezone(ZoneInfo("Europe/London"))
    unavailability.mark_unavailable(db.session, people["max"], local_day.date(), "wedding")
    db.session.commit()
    login_as(people["organiser"])
    url = f"/groups/uk/rota/shifts/{shift.id}/assign"
    page = client.get(url).get_data(as_text=True)
    assert "Max Member (unavailable that day)" in page
    response = client.post(url, data={"user_id": people["max"].id})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "said they are unavailable" in page and "Assign anyway" in page
    assert _active(db, shift) == [] and mail == []

    response = client.post(url, data={"user_id": people["max"].id, "confirmed": people["max"].id})
    assert response.status_code == 302
    assert _active(db, shift) == [people["max"].id]
    assert [m.to for m in mail] == ["max@example.org"]
    assert "You are on the rota" in mail[0].subject


def test_assign_without_warnings_goes_straight_through_and_unassign_emails(
    client, login_as, db, people, bookfair, mail
):
    shift = _shift(db, bookfair)
    login_as(people["organiser"])
    client.post(f"/groups/uk/rota/shifts/{shift.id}/assign", data={"user_id": people["ann"].id})
    (place,) = db.session.scalars(sa.select(Assignment)).all()
    assert place.assigned_by_id == people["organiser"].id
    mail.clear()
    client.post(f"/groups/uk/rota/assignments/{place.id}/remove")
    assert _active(db, shift) == []
    db.session.expire_all()
    assert db.session.get(Assignment, place.id).withdrawal_reason == (
        "Taken off the rota by Olive Organiser."
    )
    assert [(m.to, m.subject) for m in mail] == [
        ("ann@example.org", "You are off the rota: Staffing · Peterborough Radical Bookfair")
    ]


def test_changing_or_cancelling_a_shift_tells_the_people_on_it(
    client, login_as, db, people, bookfair, mail
):
    shift = _shift(db, bookfair)
    shifts.sign_up(db.session, shift, people["max"])
    shifts.sign_up(db.session, shift, people["ann"])
    db.session.commit()
    login_as(people["organiser"])
    url = f"/groups/uk/rota/shifts/{shift.id}/edit"
    assert "The people on this shift will be emailed" in client.get(url).get_data(as_text=True)
    local_day = bookfair.starts_at.astimezone(ZoneInfo("Europe/London"))
    data = {
        "role": "staffing",
        "day": local_day.date().isoformat(),
        "start": "11:00",
        "end": "13:00",
        "people_needed": "2",
        "notes": "bring the banner",
    }
    assert client.post(url, data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).notes == "bring the banner"
    assert sorted(m.to for m in mail) == ["ann@example.org", "max@example.org"]
    assert "11:00" in mail[0].body and "bring the banner" in mail[0].body
    mail.clear()
    client.post(f"/groups/uk/rota/shifts/{shift.id}/cancel")
    db.session.expire_all()
    assert db.session.get(Shift, shift.id).cancelled_at is not None
    assert sorted((m.to, m.subject) for m in mail) == [
        ("ann@example.org", "Shift cancelled: Staffing · Peterborough Radical Bookfair"),
        ("max@example.org", "Shift cancelled: Staffing · Peterborough Radical Bookfair"),
    ]


def test_message_everyone_on_an_event(client, login_as, db, people, bookfair, mail):
    shifts.sign_up(db.session, _shift(db, bookfair), people["max"])
    shifts.sign_up(db.session, _shift(db, bookfair, offset_hours=3), people["max"])
    shifts.sign_up(db.session, _shift(db, bookfair, offset_hours=3), people["ann"])
    db.session.commit()
    login_as(people["organiser"])
    url = f"/groups/uk/rota/events/{bookfair.id}/message"
    assert "Ann Member, Max Member" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"subject": "Venue changed", "body": ""})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    assert mail == []
    response = client.post(
        url,
        data={"subject": "Venue changed", "body": "Now at the Town Hall."},
        follow_redirects=True,
    )
    assert "Message sent to 2 people." in response.get_data(as_text=True)
    assert sorted(m.to for m in mail) == ["ann@example.org", "max@example.org"]
    assert mail[0].subject == "Venue changed" and "Town Hall" in mail[0].body
    assert {m.headers["Reply-To"] for m in mail} == {"olive@example.org"}


def test_a_message_to_an_event_nobody_is_on_shows_why_on_the_form(
    client, login_as, db, people, bookfair, mail
):
    _shift(db, bookfair)
    login_as(people["organiser"])
    url = f"/groups/uk/rota/events/{bookfair.id}/message"
    response = client.post(url, data={"subject": "Venue changed", "body": "Town Hall."})
    assert response.status_code == 200
    assert "Nobody is on this event's shifts yet." in html.unescape(response.get_data(as_text=True))
    assert mail == []


def test_copy_a_rota_through_the_page(client, login_as, db, people, uk, bookfair):
    shifts.fill_stall_day(db.session, bookfair, block=timedelta(hours=2))
    target = event_row(
        db.session, uk, title="Next one", starts_at=bookfair.starts_at + timedelta(days=7)
    )
    db.session.commit()
    login_as(people["organiser"])
    url = f"/groups/uk/rota/events/{target.id}/copy"
    assert "Peterborough Radical Bookfair" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"source_id": bookfair.id}).status_code == 302
    assert len(lists.event_rota(db.session, target)) == 6


def test_group_rota_over_a_date_range(client, login_as, db, people, uk, bookfair):
    _shift(db, bookfair, needed=2)
    far = event_row(db.session, uk, title="Far away", starts_at=utcnow() + timedelta(days=200))
    _shift(db, far)
    login_as(people["organiser"])
    page = client.get("/groups/uk/rota").get_data(as_text=True)
    assert "Peterborough Radical Bookfair" in page and "Far away" not in page
    start = (utcnow() + timedelta(days=150)).date().isoformat()
    end = (utcnow() + timedelta(days=250)).date().isoformat()
    page = client.get(f"/groups/uk/rota?start={start}&end={end}").get_data(as_text=True)
    assert "Far away" in page and "Peterborough Radical Bookfair" not in page
    page = client.get(f"/groups/uk/rota?start={end}&end={start}").get_data(as_text=True)
    assert "The end must not be before the start." in page


def test_members_cannot_open_the_organiser_rota(client, login_as, db, people, bookfair):
    login_as(people["max"])
    assert client.get("/groups/uk/rota").status_code == 403
    assert client.get(f"/groups/uk/rota/events/{bookfair.id}").status_code == 403


def test_my_shifts_query_count_does_not_grow_with_shifts(
    client, login_as, db, people, uk, count_statements
):
    made = []

    def add_places(count):
        for _ in range(count):
            made.append(len(made))
            n = made[-1]
            event = event_row(
                db.session, uk, title=f"Stall {n}", starts_at=utcnow() + timedelta(days=3 + n)
            )
            shift = _shift(db, event)
            shifts.sign_up(db.session, shift, people["max"])
            shifts.sign_up(db.session, shift, people["ann"])
            _shift(db, event, offset_hours=3)
        db.session.commit()

    login_as(people["max"])
    add_places(1)
    with count_statements() as few:
        client.get("/my-shifts")
    add_places(5)
    with count_statements() as many:
        assert "Stall 5" in client.get("/my-shifts").get_data(as_text=True)
    assert many.count == few.count


def test_cover_request_page_is_for_the_group_only(
    client, login_as, db, people, bookfair, make_user, make_group
):
    place = shifts.sign_up(db.session, _shift(db, bookfair), people["max"])
    request, _ = cover.ask_for_cover(db.session, place, "")
    db.session.commit()
    outsider = make_user(groups={make_group(): "member"})
    login_as(outsider)
    assert client.get(f"/groups/uk/rota/cover/{request.id}").status_code == 404
    assert db.session.get(CoverRequest, request.id).status == "open"


def test_event_rota_query_count_does_not_grow_with_shifts(
    client, login_as, db, people, uk, bookfair, make_user, count_statements
):
    login_as(people["organiser"])

    def add_shifts(offsets):
        for offset in offsets:
            shift = _shift(db, bookfair, offset_hours=offset, hours=1)
            for _ in range(2):
                shifts.assign(
                    db.session, shift, make_user(groups={uk: "member"}), people["organiser"]
                )
        db.session.commit()

    add_shifts([0])
    with count_statements() as few:
        client.get(f"/groups/uk/rota/events/{bookfair.id}")
    add_shifts([1, 2, 3, 4, 5])
    with count_statements() as many:
        page = client.get(f"/groups/uk/rota/events/{bookfair.id}").get_data(as_text=True)
    assert page.count("2 of 2 · full") == 6
    assert many.count == few.count
