"""The event page as the hub of an event, and the group's home that says what comes next."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from stallapp.contacts.services import receive_message, record_contact
from stallapp.database import utcnow
from stallapp.errors import NotAllowed
from stallapp.events.models import EventKind
from stallapp.qr.models import QrCode, QrPurpose
from stallapp.reports import closeout as reports
from stallapp.rota import shifts
from stallapp.rota.models import Assignment, ShiftRole
from stallapp.stock import services as stock
from tests.builders import event_row


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)")


@pytest.fixture
def people(make_user, uk):
    return {
        "olive": make_user(name="Olive Organiser", groups={uk: "organiser"}),
        "max": make_user(name="Max Member", groups={uk: "member"}),
        "mo": make_user(name="Mo Member", groups={uk: "member"}),
    }


def _stall(db, uk, people, *, starts_in=timedelta(days=3)):
    """A stall with set-up (1), staffing (4) and pack-down (2): 5 of 7 places filled, Max on
    staffing; 20 copies of a title packed."""
    event = event_row(db.session, uk, starts_at=utcnow() + starts_in)
    start = event.starts_at
    setup = shifts.add_shift(db.session, event, ShiftRole.SETUP, start - timedelta(hours=1), start)
    staffing = shifts.add_shift(
        db.session, event, ShiftRole.STAFFING, start, start + timedelta(hours=4), people_needed=4
    )
    packdown = shifts.add_shift(
        db.session,
        event,
        ShiftRole.PACKDOWN,
        start + timedelta(hours=6),
        start + timedelta(hours=7),
        people_needed=2,
    )
    for shift, person in (
        (setup, "olive"),
        (staffing, "max"),
        (staffing, "mo"),
        (staffing, "olive"),
    ):
        db.session.add(Assignment(shift=shift, user=people[person]))
    db.session.add(Assignment(shift=packdown, user=people["mo"]))
    store = stock.create_store(db.session, uk, "Spare room")
    journal = stock.create_publication(
        db.session,
        uk,
        stock.PublicationData(title="Aurora", kind="broadsheet", language="en", is_free=True),
    )
    stock.receive(db.session, store, journal, 50, people["olive"], "")
    stock.pack_for_event(db.session, store, event, {journal: 20}, people["olive"])
    db.session.commit()
    return event


def _page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return " ".join(response.get_data(as_text=True).split())


def test_the_organisers_event_page_leads_to_everything(client, db, login_as, uk, people):
    event = _stall(db, uk, people)
    login_as(people["olive"])
    page = _page(client, f"/groups/uk/events/{event.id}")
    assert "5 of 7 places filled" in page
    assert "Needs 1 more for Pack-down" in page
    assert "20 copies packed · 1 title" in page
    for endpoint in (
        f"/groups/uk/rota/events/{event.id}",
        f"/groups/uk/stock/events/{event.id}/pack",
        f"/groups/uk/sell/{event.id}",
        f"/groups/uk/events/{event.id}/qr",
        f"/e/{event.public_code}",
    ):
        assert endpoint in page, endpoint
    # Before the event starts, close-out is not offered; the page says when it is.
    assert f"/groups/uk/events/{event.id}/close-out" not in page
    assert "Close-out opens when the event starts" in page


def test_close_out_waits_for_the_event_to_start(client, db, login_as, uk, people):
    event = _stall(db, uk, people)
    login_as(people["olive"])
    page = _page(client, f"/groups/uk/events/{event.id}/close-out")
    assert "This event has not started yet" in page
    assert 'name="store"' not in page
    with pytest.raises(NotAllowed) as refused:
        reports.close_out(
            db.session, event, people["olive"], stock.stores_of(db.session, uk)[0], {}, []
        )
    assert refused.value.code == "not_started"
    db.session.rollback()

    event.starts_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    hub = _page(client, f"/groups/uk/events/{event.id}")
    assert f"/groups/uk/events/{event.id}/close-out" in hub
    close_out = _page(client, f"/groups/uk/events/{event.id}/close-out")
    # The store list starts empty, so nobody closes out into a store they did not pick.
    select = re.search(r'<select[^>]*name="store"[^>]*>(.*?)</select>', close_out)
    assert select and "required" in select.group(0)
    first_option = re.search(r"<option[^>]*>[^<]*</option>", select.group(1)).group(0)
    assert 'value=""' in first_option and "Choose a store…" in first_option


def test_one_step_qr_code_for_the_event(client, db, login_as, uk, people):
    event = _stall(db, uk, people)
    login_as(people["olive"])
    response = client.post(f"/groups/uk/events/{event.id}/qr")
    code = db.session.scalar(sa.select(QrCode))
    assert (code.purpose, code.event_id) == (QrPurpose.EVENT, event.id)
    assert code.label == "Table card · Peterborough Radical Bookfair"
    assert response.headers["Location"].endswith(f"/groups/uk/qr/{code.id}")
    page = _page(client, f"/groups/uk/events/{event.id}")
    assert f"/groups/uk/qr/{code.id}" in page and "0 scans" in page
    client.post("/logout")
    login_as(people["max"])
    assert client.post(f"/groups/uk/events/{event.id}/qr").status_code == 403


def test_a_member_sees_their_shifts_and_the_sale_screen_when_it_is_on(
    client, db, login_as, uk, people
):
    event = _stall(db, uk, people)
    login_as(people["max"])
    page = _page(client, f"/groups/uk/events/{event.id}")
    assert "Your shifts here" in page and "Staffing" in page
    assert f"/groups/uk/sell/{event.id}" not in page  # three days ahead: not yet
    assert f"/groups/uk/rota/events/{event.id}" not in page  # organisers' pages
    event.starts_at = utcnow() + timedelta(hours=2)
    event.ends_at = event.starts_at + timedelta(hours=7)
    db.session.commit()
    assert f"/groups/uk/sell/{event.id}" in _page(client, f"/groups/uk/events/{event.id}")


def test_the_door_list_is_found_and_paged(client, db, login_as, uk, people):
    from stallapp.events.models import Registration, RegistrationStatus

    event = event_row(db.session, uk)
    event.kind = EventKind.PUBLIC_MEETING
    event.registration_required = True
    for number in range(30):
        db.session.add(
            Registration(
                event_id=event.id,
                status=RegistrationStatus.REGISTERED,
                name=f"Person {number:02d}",
                email=f"person{number:02d}@example.org",
            )
        )
    db.session.commit()
    login_as(people["olive"])
    first = _page(client, f"/groups/uk/events/{event.id}")
    assert "30 registered" in first and "Page 1 of 2" in first
    assert "Person 24" in first and "Person 25" not in first
    second = _page(client, f"/groups/uk/events/{event.id}?page=2")
    assert "Person 25" in second and "Person 24" not in second
    found = _page(client, f"/groups/uk/events/{event.id}?q=person07%40")
    assert "1 found" in found and "Person 07" in found and "Person 08" not in found


def test_the_group_home_says_whats_next(client, db, login_as, uk, people):
    event = _stall(db, uk, people)
    past = event_row(
        db.session, uk, title="Sheffield Radical Bookfair", starts_at=utcnow() - timedelta(days=9)
    )
    store = stock.stores_of(db.session, uk)[0]
    book = stock.create_publication(
        db.session,
        uk,
        stock.PublicationData(
            title="1917", kind="book", language="en", reorder_level=6, prices={"GBP": 1200}
        ),
    )
    stock.receive(db.session, store, book, 10, people["olive"], "")
    stock.pack_for_event(db.session, store, past, {book: 5}, people["olive"])
    receive_message(db.session, uk, email="a@example.org", name="A", body="Hello")
    confirmed = record_contact(db.session, uk, email="b@example.org")
    confirmed.confirmed_at = utcnow()
    record_contact(db.session, uk, email="c@example.org")  # not confirmed: not counted
    db.session.commit()

    login_as(people["olive"])
    home = _page(client, "/groups/uk/")
    assert "Peterborough Radical Bookfair" in home and "5 of 7 places filled" in home
    assert "Needs 1 more for Pack-down" in home
    assert "Set-up · Peterborough Radical Bookfair" in home  # Olive's next shift
    assert "1 unread message" in home
    assert "1 title to reprint" in home and "1917 (5)" in home
    assert "1 sign-up this month" in home
    assert f"/groups/uk/events/{past.id}/close-out" in home
    for section in (
        "/groups/uk/events/",
        "/groups/uk/rota",
        "/groups/uk/stock/",
        "/groups/uk/stock/ledger",
        "/groups/uk/contacts/",
        "/groups/uk/announcements/",
        "/groups/uk/qr",
        "/groups/uk/reports",
        "/groups/uk/members",
        "/groups/uk/sell",
        "/my-shifts",
        "/g/uk",
    ):
        assert f'href="{section}"' in home, section

    # At the reprint level itself the title is not flagged: "reprint when fewer than 5".
    book.reorder_level = 5
    db.session.commit()
    assert "to reprint" not in _page(client, "/groups/uk/")
    assert "reprint" not in _page(client, "/groups/uk/stock/")

    client.post("/logout")
    login_as(people["max"])
    home = _page(client, "/groups/uk/")
    assert "Staffing · Peterborough Radical Bookfair" in home
    assert "/groups/uk/qr" not in home and "unread" not in home
    assert f"/groups/uk/events/{event.id}" in home
