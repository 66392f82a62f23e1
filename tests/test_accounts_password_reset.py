"""Password reset by an emailed single-use link that expires in an hour."""

from datetime import timedelta

import pytest

from stallapp.accounts import passwords, services
from stallapp.errors import InvalidToken
from tests.conftest import PASSWORD, link_in, path_of


def test_reset_by_email_link(app, client, make_user, mail, db):
    user = make_user(email="olive@example.org")
    response = client.post("/forgot-password", data={"email": "olive@example.org"})
    assert "Check your email" in response.get_data(as_text=True)
    assert [message.to for message in mail] == ["olive@example.org"]
    link = path_of(link_in(mail[0]))

    response = client.post(
        link, data={"password": "solidarity forever", "confirm": "solidarity forever"}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, "solidarity forever")
    # Single use.
    assert client.get(link).status_code == 404


def test_unknown_address_gets_the_same_answer_and_no_email(client, mail):
    response = client.post("/forgot-password", data={"email": "nobody@example.org"})
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    assert mail == []


def test_reset_link_expires_after_an_hour(make_user, db):
    user = make_user()
    user_and_token = services.request_password_reset(db.session, user.email)
    assert user_and_token is not None
    _, token = user_and_token
    reset = db.session.scalars(services.sa.select(services.PasswordReset)).one()
    assert reset.expires_at - reset.created_at <= timedelta(hours=1, seconds=1)
    reset.expires_at = reset.created_at - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(InvalidToken):
        services.reset_password(db.session, token, "a perfectly fine one")


def test_reset_ends_every_session(app, make_user, mail, db):
    user = make_user()
    phone = app.test_client()
    phone.post("/login", data={"email": user.email, "password": PASSWORD})
    assert phone.get("/").status_code == 200
    _, token = services.request_password_reset(db.session, user.email)
    services.reset_password(db.session, token, "a perfectly fine one")
    db.session.commit()
    assert phone.get("/").status_code == 302


def test_weak_new_password_is_refused_and_link_stays_usable(client, make_user, mail, db):
    user = make_user()
    client.post("/forgot-password", data={"email": user.email})
    link = path_of(link_in(mail[0]))
    response = client.post(link, data={"password": "qwerty123", "confirm": "qwerty123"})
    assert response.status_code == 200
    assert "most common" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, PASSWORD)
    assert client.get(link).status_code == 200


def test_bad_email_on_the_forgot_form_is_explained(client, mail):
    response = client.post("/forgot-password", data={"email": "not an email"})
    assert response.status_code == 200
    assert "Invalid email address." in response.get_data(as_text=True)
    assert mail == []
