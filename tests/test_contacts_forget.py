"""Unsubscribing, and "forget me": erasing a person's data in a group by an emailed link."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from stallapp.contacts import privacy, services
from stallapp.contacts.models import Contact, ContactMessage, ErasureRequest
from stallapp.database import utcnow
from stallapp.errors import InvalidToken
from stallapp.events.models import Registration, RegistrationStatus
from tests.builders import add_registration, meeting_row
from tests.conftest import link_in, path_of


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)")


def subscriber(db, group, email="sub@example.org"):
    result = services.sign_up(db.session, group, email=email, name="Sub", consent_text="x")
    contact = services.confirm_mailing(db.session, result.confirmation_token)
    db.session.commit()
    return contact


def registered_count(db, event):
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.REGISTERED
        )
    )


def test_unsubscribe_link_asks_then_unsubscribes(client, uk, db):
    contact = subscriber(db, uk)
    page = client.get(f"/u/{contact.unsubscribe_token}")
    assert page.status_code == 200
    assert "Unsubscribe me" in page.get_data(as_text=True)
    db.session.refresh(contact)
    assert contact.unsubscribed_at is None, "opening the link alone changes nothing"

    response = client.post(f"/u/{contact.unsubscribe_token}")
    assert "You are unsubscribed" in response.get_data(as_text=True)
    db.session.refresh(contact)
    assert contact.unsubscribed_at is not None
    assert services.mailing_list(db.session, uk) == []
    # Doing it again is harmless.
    assert client.post(f"/u/{contact.unsubscribe_token}").status_code == 200


def test_unknown_unsubscribe_token_is_404(client, db):
    assert client.get("/u/not-a-token").status_code == 404
    assert client.post("/u/not-a-token").status_code == 404


def test_unsubscribe_tokens_are_unguessable_and_distinct(uk, db):
    first = subscriber(db, uk, "one@example.org")
    second = subscriber(db, uk, "two@example.org")
    assert first.unsubscribe_token != second.unsubscribe_token
    assert len(first.unsubscribe_token) >= 32


def test_forget_me_erases_contact_and_messages_and_anonymises_registrations(
    client, uk, make_group, mail, db
):
    contact = subscriber(db, uk, "gone@example.org")
    services.receive_message(db.session, uk, email="gone@example.org", name="Gone", body="Hi")
    meeting = meeting_row(db.session, uk)
    mine = add_registration(db, meeting, email="gone@example.org", name="Gone", contact=contact)
    # A registration made with the address but not linked to the contact is theirs too.
    add_registration(
        db,
        meeting_row(db.session, uk, title="Stall"),
        email="gone@example.org",
    )
    add_registration(db, meeting, email="stays@example.org", name="Stays")
    elsewhere = make_group(slug="elsewhere")
    other_group_contact = subscriber(db, elsewhere, "gone@example.org")
    db.session.commit()
    contact_id, other_id, mine_id = contact.id, other_group_contact.id, mine.id
    assert registered_count(db, meeting) == 2
    mail.clear()

    response = client.post("/g/uk/forget", data={"email": "Gone@example.org"})
    assert "Check your email" in response.get_data(as_text=True)
    [message] = mail
    assert message.to == "gone@example.org"
    link = path_of(link_in(message))

    page = client.get(link).get_data(as_text=True)
    assert "gone@example.org" in page and "Erase everything" in page
    assert db.session.get(Contact, contact_id) is not None, "opening the link erases nothing"

    response = client.post(link)
    assert "Your details are erased" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Contact, contact_id) is None
    assert db.session.scalars(sa.select(ContactMessage)).all() == []
    registration = db.session.get(Registration, mine_id)
    assert (registration.name, registration.email, registration.note) == ("", "", "")
    assert registration.contact_id is None
    assert registration.cancel_token_hash is None
    assert registration.anonymised_at is not None
    assert registration.status == RegistrationStatus.REGISTERED
    assert registered_count(db, meeting) == 2, "the event's figures stay right"
    remaining = db.session.scalars(sa.select(Registration.email).order_by(Registration.email))
    assert sorted(remaining) == ["", "", "stays@example.org"]
    # Other groups are not touched, and the link is spent.
    assert db.session.get(Contact, other_id) is not None
    assert db.session.scalars(sa.select(ErasureRequest)).all() == []
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404


def test_forget_me_answers_the_same_for_unknown_addresses(client, uk, mail, db):
    subscriber(db, uk, "known@example.org")
    mail.clear()
    known = client.post("/g/uk/forget", data={"email": "known@example.org"})
    unknown = client.post("/g/uk/forget", data={"email": "stranger@example.org"})
    assert known.get_data() == unknown.get_data()
    assert [message.to for message in mail] == ["known@example.org"]


def test_forget_me_reaches_a_registrant_without_a_contact(uk, db):
    add_registration(
        db,
        meeting_row(db.session, uk),
        email="reg@example.org",
    )
    token = privacy.request_erasure(db.session, uk, "reg@example.org")
    assert token is not None
    erased = privacy.erase_by_request(db.session, token)
    assert (erased.contacts, erased.registrations) == (0, 1)


def test_forget_me_honeypot_sends_nothing(client, uk, mail, db):
    subscriber(db, uk, "known@example.org")
    mail.clear()
    response = client.post("/g/uk/forget", data={"email": "known@example.org", "website": "x"})
    assert "Check your email" in response.get_data(as_text=True)
    assert mail == []
    assert db.session.scalars(sa.select(ErasureRequest)).all() == []


def test_forget_me_link_expires_after_a_day(uk, db):
    subscriber(db, uk, "late@example.org")
    token = privacy.request_erasure(db.session, uk, "late@example.org")
    request = db.session.scalars(sa.select(ErasureRequest)).one()
    assert request.expires_at - request.created_at == timedelta(hours=24)
    request.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(InvalidToken):
        privacy.erase_by_request(db.session, token)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1


def test_erased_contact_unsubscribe_link_no_longer_works(client, uk, db):
    contact = subscriber(db, uk, "gone@example.org")
    token = contact.unsubscribe_token
    privacy.erase_address(db.session, uk, "gone@example.org")
    db.session.commit()
    assert client.get(f"/u/{token}").status_code == 404
