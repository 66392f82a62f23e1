"""The public contact form and the organisers' inbox."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group
from stallapp.contacts import services
from stallapp.contacts.models import Contact, ContactMessage, MessageStatus
from tests.conftest import link_in, path_of


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)")


def write(client, **fields):
    data = {
        "name": "Bea Writer",
        "email": "bea@example.org",
        "message": "When is the next meeting?",
    }
    data.update(fields)
    return client.post("/g/uk/contact", data=data)


def messages(db):
    return list(db.session.scalars(sa.select(ContactMessage).order_by(ContactMessage.id)))


def test_a_message_reaches_the_inbox_without_signing_up(client, uk, mail, db):
    response = write(client, message="Hello\r\nthere")
    assert "Message sent" in response.get_data(as_text=True)
    [message] = messages(db)
    assert message.body == "Hello\nthere"
    assert message.status == MessageStatus.UNREAD
    contact = db.session.get(Contact, message.contact_id)
    assert (contact.email, contact.name) == ("bea@example.org", "Bea Writer")
    assert contact.mailing_consent_at is None
    assert mail == []


def test_ticking_the_box_asks_for_confirmation_by_email(client, uk, mail, db):
    write(client, consent="y")
    contact = db.session.scalars(sa.select(Contact)).one()
    assert contact.awaiting_confirmation
    assert contact.mailing_consent_text.startswith("I agree that CWO (UK)")
    client.post(path_of(link_in(mail[0])))
    db.session.refresh(contact)
    assert contact.subscribed


def test_missing_message_is_refused_and_nothing_stored(client, uk, mail, db):
    response = write(client, message="   ")
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert messages(db) == []
    assert db.session.scalars(sa.select(Contact)).all() == []


def test_double_submission_stores_the_message_once(client, uk, db):
    write(client)
    write(client)
    assert len(messages(db)) == 1
    write(client, message="And another question.")
    assert len(messages(db)) == 2


def test_the_same_text_later_is_a_new_message(uk, db):
    first = services.receive_message(
        db.session, uk, email="c@example.org", name="C", body="Thanks!"
    ).message
    first.created_at -= services.DUPLICATE_MESSAGE_WINDOW + timedelta(seconds=1)
    db.session.commit()
    second = services.receive_message(
        db.session, uk, email="c@example.org", name="C", body="Thanks!"
    ).message
    assert second.id != first.id


def test_filled_honeypot_stores_nothing(client, uk, mail, db):
    real = write(client).get_data(as_text=True)
    bot = write(client, email="bot@example.org", website="buy now", message="spam")
    assert bot.get_data(as_text=True) == real
    assert [message.body for message in messages(db)] == ["When is the next meeting?"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1
    assert mail == []


def test_inbox_tabs_open_archive_and_mark_unread(client, uk, make_user, login_as, db):
    organiser = make_user(groups={uk: "organiser"})
    message = services.receive_message(
        db.session, uk, email="d@example.org", name="Dee", body="Can I help at the stall?"
    ).message
    db.session.commit()
    login_as(organiser)

    unread = client.get("/groups/uk/contacts/messages").get_data(as_text=True)
    assert "Dee" in unread and "Unread (1)" in unread
    read_tab = client.get("/groups/uk/contacts/messages?status=read").get_data(as_text=True)
    assert "Dee" not in read_tab

    opened = client.get(f"/groups/uk/contacts/messages/{message.id}").get_data(as_text=True)
    assert "Can I help at the stall?" in opened
    assert "mailto:d@example.org" in opened
    db.session.refresh(message)
    assert message.status == MessageStatus.READ
    assert "Dee" in client.get("/groups/uk/contacts/messages?status=read").get_data(as_text=True)

    response = client.post(f"/groups/uk/contacts/messages/{message.id}/archive")
    assert response.status_code == 302
    db.session.refresh(message)
    assert message.status == MessageStatus.ARCHIVED
    archived = client.get("/groups/uk/contacts/messages?status=archived").get_data(as_text=True)
    assert "Dee" in archived
    assert "Dee" not in client.get("/groups/uk/contacts/messages").get_data(as_text=True)

    client.post(f"/groups/uk/contacts/messages/{message.id}/restore")
    db.session.refresh(message)
    assert message.status == MessageStatus.READ
    client.post(f"/groups/uk/contacts/messages/{message.id}/unread")
    db.session.refresh(message)
    assert message.status == MessageStatus.UNREAD


def test_messages_of_another_group_are_not_found(client, uk, make_group, make_user, login_as, db):
    other = make_group(slug="other")
    organiser = make_user(groups={other: "organiser"})
    message = services.receive_message(
        db.session, uk, email="e@example.org", name="E", body="For the UK group"
    ).message
    db.session.commit()
    login_as(organiser)
    assert client.get(f"/groups/other/contacts/messages/{message.id}").status_code == 404
    assert client.post(f"/groups/other/contacts/messages/{message.id}/archive").status_code == 404
    assert "For the UK group" not in client.get("/groups/other/contacts/messages").get_data(
        as_text=True
    )
    db.session.refresh(message)
    assert message.status == MessageStatus.UNREAD


def test_members_cannot_read_the_inbox(client, uk, make_user, login_as, db):
    member = make_user(groups={uk: "member"})
    message = services.receive_message(
        db.session, uk, email="f@example.org", name="F", body="Private"
    ).message
    db.session.commit()
    login_as(member)
    assert client.get("/groups/uk/contacts/messages").status_code == 403
    assert client.get(f"/groups/uk/contacts/messages/{message.id}").status_code == 403
    db.session.refresh(message)
    assert message.status == MessageStatus.UNREAD


def test_the_same_message_sent_twice_at_once_is_stored_once(app, db, backend, uk):
    """The contact's row lock makes the second submission wait, then see the first message."""
    if backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite takes its write lock up front")
    services.record_contact(db.session, uk, email="twice@example.org", name="T")
    db.session.commit()
    group_id = uk.id
    first, second = Session(db.engine), Session(db.engine)
    outcome = {}

    def send_again():
        with app.app_context():
            received = services.receive_message(
                second,
                second.get(Group, group_id),
                email="twice@example.org",
                name="T",
                body="Same words",
            )
            second.commit()
            outcome["id"] = received.message.id

    try:
        received = services.receive_message(
            first,
            first.get(Group, group_id),
            email="twice@example.org",
            name="T",
            body="Same words",
        )
        racer = threading.Thread(target=send_again)
        racer.start()
        racer.join(timeout=1)
        assert racer.is_alive(), "the second submission must wait for the first"
        first.commit()
        racer.join(timeout=10)
        assert outcome == {"id": received.message.id}
    finally:
        first.close()
        second.close()
    assert len(messages(db)) == 1
