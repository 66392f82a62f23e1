"""Joining a group's mailing list: consent, double opt-in, never telling who is on the list."""

import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group
from stallapp.contacts import services
from stallapp.contacts.forms import consent_wording
from stallapp.contacts.models import Contact, MailingConfirmation
from stallapp.database import utcnow
from stallapp.errors import InvalidToken
from stallapp.qr.models import QrCode, QrPurpose
from stallapp.stock.services import save_subscription_offer
from tests.conftest import link_in, path_of


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)")


def contacts(db):
    return list(db.session.scalars(sa.select(Contact)))


def join(client, headers=None, **fields):
    data = {"name": "Ann Reader", "email": "ann@example.org", "consent": "y"}
    data.update(fields)
    return client.post("/g/uk/join", data=data, headers=headers)


def test_sign_up_counts_only_once_the_emailed_link_is_opened(client, uk, mail, db):
    page = client.get("/g/uk/join").get_data(as_text=True)
    assert 'type="checkbox"' in page and "checked" not in page

    response = join(client, email="Ann@Example.org", city="Leeds", interests="the journal")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    [contact] = contacts(db)
    assert contact.email == "ann@example.org"
    assert (contact.city, contact.interests) == ("Leeds", "the journal")
    assert contact.mailing_consent_at is not None
    assert contact.mailing_consent_text == consent_wording("CWO (UK)")
    assert contact.confirmed_at is None
    assert services.mailing_list(db.session, uk) == []

    [message] = mail
    assert message.to == "ann@example.org"
    assert f"/u/{contact.unsubscribe_token}" in message.body
    link = path_of(link_in(message))
    assert client.get(link).status_code == 200
    db.session.refresh(contact)
    assert contact.confirmed_at is None, "opening the page alone must not confirm"

    response = client.post(link)
    assert "You are on the list" in response.get_data(as_text=True)
    db.session.refresh(contact)
    assert contact.confirmed_at is not None
    assert services.mailing_list(db.session, uk) == [contact]
    # Single use.
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404


def test_consent_is_required(client, uk, mail, db):
    response = join(client, consent="")
    assert response.status_code == 200
    assert "Tick this box to join the mailing list." in response.get_data(as_text=True)
    assert contacts(db) == []
    assert mail == []


def test_bad_email_is_refused_next_to_the_field(client, uk, mail, db):
    response = join(client, email="not an address")
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert contacts(db) == []
    assert mail == []


def test_the_answer_never_tells_who_is_on_the_list(client, uk, mail, db):
    first = join(client, email="new@example.org").get_data(as_text=True)
    confirmed = services.sign_up(
        db.session, uk, email="known@example.org", name="Known", consent_text="x"
    )
    services.confirm_mailing(db.session, confirmed.confirmation_token)
    db.session.commit()
    mail.clear()

    again = join(client, email="known@example.org").get_data(as_text=True)
    assert again == first
    assert mail == [], "a confirmed subscriber gets nothing new"
    assert "already subscribed" not in again.lower()


def test_a_known_unconfirmed_address_gets_a_fresh_link(client, uk, mail, db):
    join(client)
    first_link = path_of(link_in(mail[0]))
    db.session.execute(
        sa.update(MailingConfirmation).values(created_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    join(client)
    assert len(mail) == 2
    second_link = path_of(link_in(mail[1]))
    assert second_link != first_link
    assert len(contacts(db)) == 1
    # Either link confirms; then both are spent.
    assert client.post(second_link).status_code == 200
    assert client.post(first_link).status_code == 404


def test_double_submission_makes_one_contact_and_one_email(client, uk, mail, db):
    first = join(client)
    second = join(client)
    assert first.get_data() == second.get_data()
    assert len(contacts(db)) == 1
    assert len(mail) == 1


def test_filled_honeypot_gets_the_thanks_page_and_stores_nothing(client, uk, mail, db):
    page = client.get("/g/uk/join").get_data(as_text=True)
    assert "Leave this empty" in page
    assert 'tabindex="-1"' in page and 'autocomplete="off"' in page
    real = join(client, email="real@example.org").get_data(as_text=True)
    mail.clear()
    bot = join(client, email="bot@example.org", website="http://spam.example")
    assert bot.status_code == 200
    assert bot.get_data(as_text=True) == real
    assert [contact.email for contact in contacts(db)] == ["real@example.org"]
    assert mail == []


def test_confirmation_link_expires_after_seven_days(uk, db):
    result = services.sign_up(db.session, uk, email="late@example.org", name="", consent_text="x")
    confirmation = db.session.scalars(sa.select(MailingConfirmation)).one()
    assert confirmation.expires_at - confirmation.created_at == timedelta(days=7)
    confirmation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(InvalidToken):
        services.confirm_mailing(db.session, result.confirmation_token)


def test_public_form_does_not_overwrite_known_details(uk, db):
    services.sign_up(
        db.session, uk, email="a@example.org", name="Ann", city="Leeds", consent_text="x"
    )
    services.sign_up(
        db.session, uk, email="a@example.org", name="Mallory", city="Nowhere", consent_text="x"
    )
    contact = db.session.scalars(sa.select(Contact)).one()
    assert (contact.name, contact.city) == ("Ann", "Leeds")


def test_sign_up_records_the_qr_code_it_came_from(uk, db):
    code = QrCode(group_id=uk.id, code="abc123", purpose=QrPurpose.JOIN, label="table card")
    db.session.add(code)
    db.session.flush()
    result = services.sign_up(
        db.session,
        uk,
        email="scan@example.org",
        name="Scanner",
        consent_text="x",
        source_qr_code_id=code.id,
    )
    assert result.contact.source_qr_code_id == code.id


def test_resubscribing_after_unsubscribing_needs_a_new_confirmation(uk, db):
    first = services.sign_up(db.session, uk, email="b@example.org", name="B", consent_text="x")
    contact = services.confirm_mailing(db.session, first.confirmation_token)
    services.unsubscribe(db.session, contact.unsubscribe_token)
    again = services.sign_up(db.session, uk, email="b@example.org", name="B", consent_text="y")
    assert again.confirmation_token is not None
    assert services.mailing_list(db.session, uk) == []
    services.confirm_mailing(db.session, again.confirmation_token)
    assert services.mailing_list(db.session, uk) == [contact]
    assert contact.unsubscribed_at is None


def test_public_pages_speak_the_group_language_and_need_no_javascript(client, make_group, db):
    montreal = make_group(
        slug="montreal", language="fr", timezone="America/Toronto", currency="CAD"
    )
    result = services.sign_up(
        db.session, montreal, email="m@example.org", name="M", consent_text="x"
    )
    db.session.commit()
    token_pages = (
        f"/join/confirm/{result.confirmation_token}",
        f"/u/{result.contact.unsubscribe_token}",
    )
    for path in ("/g/montreal/join", "/g/montreal/contact", "/g/montreal/forget", *token_pages):
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="fr-CA">' in page, path
        assert "<script" not in page, path


def test_unknown_group_is_404(client, db):
    assert client.get("/g/nowhere/join").status_code == 404
    assert client.post("/g/nowhere/join", data={}).status_code == 404


@pytest.fixture
def app_config(app_config):
    app_config["PUBLIC_FORM_LIMIT"] = "3 per minute"
    return app_config


def test_sign_ups_are_rate_limited(client, uk, db):
    for number in range(3):
        assert join(client, email=f"person{number}@example.org").status_code == 200
    assert join(client, email="one.more@example.org").status_code == 429
    assert len(contacts(db)) == 3


def test_join_after_a_scan_records_the_code_of_this_group_only(client, uk, make_group, db):
    own = QrCode(group_id=uk.id, code="own1", purpose=QrPurpose.JOIN, label="table card")
    foreign = QrCode(
        group_id=make_group(slug="other").id, code="far1", purpose=QrPurpose.JOIN, label="x"
    )
    db.session.add_all([own, foreign])
    db.session.commit()
    with client.session_transaction() as browser_session:
        browser_session["scanned_qr_code_id"] = own.id
    join(client, email="scanned@example.org")
    with client.session_transaction() as browser_session:
        browser_session["scanned_qr_code_id"] = foreign.id
    join(client, email="wandered@example.org")
    sources = dict(db.session.execute(sa.select(Contact.email, Contact.source_qr_code_id)).all())
    assert sources == {"scanned@example.org": own.id, "wandered@example.org": None}


def test_a_seller_who_scanned_a_code_does_not_credit_it_with_a_subscription(
    client, login_as, member, event, uk, db
):
    table_card = QrCode(group_id=uk.id, code="tbl1", purpose=QrPurpose.JOIN, label="table card")
    db.session.add(table_card)
    offer = save_subscription_offer(
        db.session, uk, name="Joint subscription", description="", prices={"GBP": 1500}
    )
    db.session.commit()
    login_as(member)
    assert client.get("/q/tbl1").status_code == 302, "the seller tries the table card"
    response = client.post(
        f"/groups/uk/sell/{event.id}/record",
        data={
            "operation_id": str(uuid.uuid4()),
            "type": "subscription",
            "offer_id": str(offer.id),
            "payment_method": "card",
            "name": "Rosa",
            "email": "rosa@example.org",
            "consent": "y",
        },
    )
    assert response.status_code == 302
    [contact] = contacts(db)
    assert (contact.email, contact.source_event_id) == ("rosa@example.org", event.id)
    assert contact.source_qr_code_id is None

    # The same browser, cookie and all, on the public join page: that sign-up is the code's.
    join(client, email="visitor@example.org")
    visitor = db.session.scalar(sa.select(Contact).where(Contact.email == "visitor@example.org"))
    assert visitor.source_qr_code_id == table_card.id, "a public sign-up after the scan counts"


def test_two_sign_ups_at_once_make_one_contact_and_one_link(app, db, backend, uk):
    """The unique (group, email) and the contact's row lock make the second submission wait."""
    if backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite takes its write lock up front")
    group_id = uk.id
    first, second = Session(db.engine), Session(db.engine)
    outcome = {}

    def sign_up_again():
        with app.app_context():
            result = services.sign_up(
                second,
                second.get(Group, group_id),
                email="same@example.org",
                name="B",
                consent_text="x",
            )
            second.commit()
            outcome["token"] = result.confirmation_token

    try:
        result = services.sign_up(
            first, first.get(Group, group_id), email="same@example.org", name="A", consent_text="x"
        )
        assert result.confirmation_token is not None
        racer = threading.Thread(target=sign_up_again)
        racer.start()
        racer.join(timeout=1)
        assert racer.is_alive(), "the second sign-up must wait for the first"
        first.commit()
        racer.join(timeout=10)
        assert outcome == {"token": None}, "one confirmation email, not two"
    finally:
        first.close()
        second.close()
    assert [contact.name for contact in contacts(db)] == ["A"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MailingConfirmation)) == 1


def test_a_logged_in_organiser_can_use_the_public_form_too(client, uk, make_user, login_as, db):
    login_as(make_user(groups={uk: "organiser"}))
    assert join(client, email="organiser.signup@example.org").status_code == 200
    assert [contact.email for contact in contacts(db)] == ["organiser.signup@example.org"]


class TestWithCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["WTF_CSRF_ENABLED"] = True
        return app_config

    def test_join_and_confirm_only_from_our_own_pages(self, client, uk, mail, db):
        page = client.get("/g/uk/join")
        assert "csrf_token" not in page.get_data(as_text=True)
        assert "Set-Cookie" not in page.headers, "a reader gets no cookie"
        assert join(client).status_code == 400, "no word of where it came from, no sign-up"
        cross_site = {"Origin": "https://evil.example"}
        assert join(client, headers=cross_site).status_code == 400
        assert contacts(db) == []
        assert join(client, headers={"Origin": "http://stall.test"}).status_code == 200
        link = path_of(link_in(mail[0]))
        assert "Set-Cookie" not in client.get(link).headers
        assert client.post(link, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 400
        assert client.post(link, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
        assert contacts(db)[0].confirmed_at is not None
