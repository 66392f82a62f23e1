"""Registering for an event from its public page: places, the waiting list, cancel links."""

import re
import threading
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.contacts.models import Contact
from stallapp.errors import InvalidToken
from stallapp.events import registrations, services
from stallapp.events.models import Event, Registration, RegistrationStatus
from stallapp.tokens import hash_token
from tests.builders import add_event, add_meeting, register
from tests.conftest import path_of


@pytest.fixture
def app_config(app_config):
    # Many registrations from one test client; the limit itself is tested on its own below.
    return {**app_config, "PUBLIC_FORM_LIMIT": "1000 per minute"}


@pytest.fixture
def nyc(make_group):
    return make_group(slug="nyc", name="IWG New York", timezone="America/New_York")


@pytest.fixture
def meeting(db, nyc):
    return add_meeting(db, nyc, title="IWG monthly meeting", capacity=2)


def _form(email, name="Rosa", **extra):
    return {"name": name, "email": email, "note": "", "consent": "y", "website": "", **extra}


def _cancel_link(message) -> str:
    match = re.search(r"https?://\S+/cancel/\S+", message.body)
    assert match, message.body
    return path_of(match.group(0))


def _registrations(db, event):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
    ).all()


def test_register_from_the_event_page(client, db, meeting, mail):
    page = client.get(f"/e/{meeting.public_code}").get_data(as_text=True)
    assert 'name="email"' in page
    assert "I agree that IWG New York keeps my name" in page
    consent_box = re.search(r'<input[^>]*name="consent"[^>]*>', page).group(0)
    assert 'type="checkbox"' in consent_box and "checked" not in consent_box, "not pre-ticked"
    response = client.post(
        f"/e/{meeting.public_code}", data=_form("Rosa@Example.org", note="wheelchair user")
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "You are registered" in response.get_data(as_text=True)
    (registration,) = _registrations(db, meeting)
    assert registration.status == RegistrationStatus.REGISTERED
    assert registration.email == "rosa@example.org"
    assert registration.note == "wheelchair user"
    assert registration.consent_text.startswith("I agree that IWG New York keeps my name")
    contact = db.session.get(Contact, registration.contact_id)
    assert (contact.email, contact.source_event_id) == ("rosa@example.org", meeting.id)
    (message,) = mail
    assert message.to == "rosa@example.org"
    assert message.subject == "You are registered: IWG monthly meeting"
    # Their own calendar file: it carries an online meeting's link once they have a place.
    assert f"/e/{meeting.public_code}/r/" in message.body
    token = _cancel_link(message).rsplit("/", 1)[1]
    assert registration.cancel_token_hash == hash_token(token)
    assert token not in registration.cancel_token_hash


def test_consent_and_a_valid_email_are_needed(client, db, meeting):
    page = client.post(
        f"/e/{meeting.public_code}", data=_form("rosa@example.org", consent="")
    ).get_data(as_text=True)
    assert "Please tick the box to register." in page
    page = client.post(f"/e/{meeting.public_code}", data=_form("not an email")).get_data(
        as_text=True
    )
    assert "Invalid email address." in page
    assert _registrations(db, meeting) == []


def test_full_event_puts_people_on_the_waiting_list(client, db, meeting, mail):
    for email in ("a@example.org", "b@example.org"):
        client.post(f"/e/{meeting.public_code}", data=_form(email))
    page = client.post(f"/e/{meeting.public_code}", data=_form("c@example.org")).get_data(
        as_text=True
    )
    assert "You are on the waiting list" in page and "number 1" in page
    page = client.post(f"/e/{meeting.public_code}", data=_form("d@example.org")).get_data(
        as_text=True
    )
    assert "number 2" in page
    statuses = [(r.email, r.status.value) for r in _registrations(db, meeting)]
    assert statuses == [
        ("a@example.org", "registered"),
        ("b@example.org", "registered"),
        ("c@example.org", "waiting"),
        ("d@example.org", "waiting"),
    ]
    assert mail[2].subject == "Waiting list: IWG monthly meeting"
    assert "waiting list (number 1)" in mail[2].body
    assert "/cancel/" in mail[2].body


def test_cancel_frees_the_place_for_the_first_waiting(client, db, meeting, mail):
    for email in ("a@example.org", "b@example.org", "c@example.org", "d@example.org"):
        client.post(f"/e/{meeting.public_code}", data=_form(email))
    link = _cancel_link(mail[0])
    mail.clear()

    confirm = client.get(link)
    assert confirm.status_code == 200
    assert "Yes, cancel my registration" in confirm.get_data(as_text=True)
    assert _registrations(db, meeting)[0].status == RegistrationStatus.REGISTERED, "GET is safe"

    done = client.post(link)
    assert "Your registration is cancelled" in done.get_data(as_text=True)
    statuses = [(r.email, r.status.value) for r in _registrations(db, meeting)]
    assert statuses == [
        ("a@example.org", "cancelled"),
        ("b@example.org", "registered"),
        ("c@example.org", "registered"),
        ("d@example.org", "waiting"),
    ]
    assert _registrations(db, meeting)[0].cancelled_at is not None
    (message,) = mail
    assert message.to == "c@example.org"
    assert message.subject == "A place is free for you: IWG monthly meeting"
    # The person moved up gets a working cancel link of their own.
    assert client.get(_cancel_link(message)).status_code == 200


def test_cancel_link_works_once(client, db, meeting, mail):
    client.post(f"/e/{meeting.public_code}", data=_form("a@example.org"))
    link = _cancel_link(mail[0])
    assert client.post(link).status_code == 200
    again = client.post(link)
    assert again.status_code == 404
    assert "already been used" in again.get_data(as_text=True)
    assert client.get(link).status_code == 404
    assert client.get(f"/e/{meeting.public_code}/cancel/made-up-token").status_code == 404


def test_cancel_link_is_tied_to_its_event(client, db, nyc, meeting, mail):
    other = add_meeting(db, nyc, title="Other")
    client.post(f"/e/{meeting.public_code}", data=_form("a@example.org"))
    token = _cancel_link(mail[0]).rsplit("/", 1)[1]
    assert client.post(f"/e/{other.public_code}/cancel/{token}").status_code == 404
    assert _registrations(db, meeting)[0].status == RegistrationStatus.REGISTERED


def test_cancelling_from_the_waiting_list_moves_nobody(db, meeting):
    register(db, meeting, "a@example.org")
    register(db, meeting, "b@example.org")
    waiting = register(db, meeting, "c@example.org")
    last = register(db, meeting, "d@example.org")
    cancellation = registrations.cancel_registration(db.session, waiting.cancel_token)
    db.session.commit()
    assert cancellation.moved_up == []
    assert registrations.waiting_position(db.session, last.registration) == 1


def test_registering_twice_makes_one_registration(client, db, meeting, mail):
    first = client.post(f"/e/{meeting.public_code}", data=_form("rosa@example.org"))
    second = client.post(f"/e/{meeting.public_code}", data=_form(" ROSA@example.org "))
    assert second.status_code == first.status_code == 200
    assert "You are registered" in second.get_data(as_text=True)
    assert len(_registrations(db, meeting)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1
    # Each answer carries a fresh cancel link; only the latest works.
    assert len(mail) == 2
    assert client.get(_cancel_link(mail[0])).status_code == 404
    assert client.get(_cancel_link(mail[1])).status_code == 200


def test_after_cancelling_one_may_register_again(db, meeting):
    result = register(db, meeting, "a@example.org")
    registrations.cancel_registration(db.session, result.cancel_token)
    db.session.commit()
    again = register(db, meeting, "a@example.org")
    assert again.created
    assert again.registration.status == RegistrationStatus.REGISTERED


def test_honeypot_filled_creates_nothing(client, db, meeting, mail):
    response = client.post(
        f"/e/{meeting.public_code}",
        data=_form("bot@example.org", website="http://spam.example"),
    )
    assert response.status_code == 200
    assert "You are registered" in response.get_data(as_text=True)
    assert _registrations(db, meeting) == []
    assert mail == []


def test_registration_posts_are_rate_limited(app, client, db, meeting):
    app.config["PUBLIC_FORM_LIMIT"] = "2 per minute"
    for number in range(2):
        response = client.post(f"/e/{meeting.public_code}", data=_form(f"p{number}@example.org"))
        assert response.status_code == 200
    assert client.post(f"/e/{meeting.public_code}", data=_form("p9@example.org")).status_code == 429
    assert client.get(f"/e/{meeting.public_code}").status_code == 200, "reading is not limited"


def test_no_registration_when_off_over_or_unpublished(client, db, nyc):
    no_registration = add_event(db, nyc, title="Stall")
    over = add_meeting(db, nyc, title="Over", start=datetime(2020, 1, 1, 18))
    draft = add_meeting(db, nyc, title="Draft", publish=False)
    for event in (no_registration, over):
        page = client.get(f"/e/{event.public_code}").get_data(as_text=True)
        assert 'name="email"' not in page
        client.post(f"/e/{event.public_code}", data=_form("a@example.org"))
    assert client.post(f"/e/{draft.public_code}", data=_form("a@example.org")).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 0
    with pytest.raises(registrations.RegistrationClosed):
        registrations.register(db.session, over, name="A", email="a@example.org", consent_text="ok")


def test_forgotten_people_are_not_moved_up(db, meeting):
    first = register(db, meeting, "a@example.org")
    register(db, meeting, "b@example.org")
    forgotten = register(db, meeting, "c@example.org").registration
    register(db, meeting, "d@example.org")
    forgotten.email, forgotten.name = "", ""
    forgotten.anonymised_at = services.utcnow()
    db.session.commit()
    cancellation = registrations.cancel_registration(db.session, first.cancel_token)
    assert [offer.registration.email for offer in cancellation.moved_up] == ["d@example.org"]


def test_service_errors_on_unknown_cancel_token(db, meeting):
    with pytest.raises(InvalidToken):
        registrations.cancel_registration(db.session, "nope")


def test_the_last_place_cannot_go_twice(app, db, backend, nyc):
    """Two people at once for the last place: the event row lock makes the second wait."""
    if backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite takes its write lock up front")
    event_id = add_meeting(db, nyc, capacity=1).id
    first, second = Session(db.engine), Session(db.engine)
    outcome = {}

    def register_second():
        with app.app_context():
            result = registrations.register(
                second,
                second.get(Event, event_id),
                name="B",
                email="b@example.org",
                consent_text="ok",
            )
            second.commit()
            outcome["status"] = result.registration.status

    try:
        result = registrations.register(
            first, first.get(Event, event_id), name="A", email="a@example.org", consent_text="ok"
        )
        assert result.registration.status == RegistrationStatus.REGISTERED
        racer = threading.Thread(target=register_second)
        racer.start()
        racer.join(timeout=1)
        assert racer.is_alive(), "the second registration must wait for the first's lock"
        first.commit()
        racer.join(timeout=10)
        assert outcome["status"] == RegistrationStatus.WAITING
    finally:
        first.close()
        second.close()


def test_registration_remembers_the_qr_code_scanned(client, db, nyc, meeting):
    from stallapp.qr.models import QrPurpose
    from stallapp.qr.services import create_qr_code

    poster = create_qr_code(db.session, nyc, QrPurpose.EVENT, "poster", event=meeting)
    db.session.commit()
    scan = client.get(f"/q/{poster.code}")
    assert scan.headers["Location"].endswith(f"/e/{meeting.public_code}")
    client.post(f"/e/{meeting.public_code}", data=_form("rosa@example.org"))
    (registration,) = _registrations(db, meeting)
    assert registration.source_qr_code_id == poster.id
    assert db.session.get(Contact, registration.contact_id).source_qr_code_id == poster.id


def test_registration_after_another_groups_scan_credits_no_code(
    client, db, nyc, meeting, make_group
):
    from stallapp.qr.models import QrPurpose
    from stallapp.qr.services import create_qr_code

    elsewhere = make_group(slug="elsewhere")
    their_poster = create_qr_code(db.session, elsewhere, QrPurpose.JOIN, "their poster")
    db.session.commit()
    client.get(f"/q/{their_poster.code}")
    client.post(f"/e/{meeting.public_code}", data=_form("rosa@example.org"))
    (registration,) = _registrations(db, meeting)
    assert registration.source_qr_code_id is None
    assert db.session.get(Contact, registration.contact_id).source_qr_code_id is None
