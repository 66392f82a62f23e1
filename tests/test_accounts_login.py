"""Logging in and out, and login sessions that really end on the server."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from stallapp.accounts import passwords, services
from stallapp.accounts.models import LoginSession
from stallapp.database import utcnow
from tests.conftest import PASSWORD


def test_login_and_dashboard(client, make_group, make_user, login_as):
    group = make_group(slug="uk")
    user = make_user(name="Max Member", groups={group: "member"})
    response = login_as(user)
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Max Member" in page
    assert "Group uk" in page


def test_wrong_password_and_unknown_email_answer_alike(client, make_user, db):
    user = make_user()
    wrong = client.post("/login", data={"email": user.email, "password": "nope-nope-nope"})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "x" * 10})
    assert wrong.status_code == unknown.status_code == 200
    assert "Wrong email or password." in wrong.get_data(as_text=True)
    assert "Wrong email or password." in unknown.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 0


def test_unknown_email_still_spends_hashing_time(app, monkeypatch, db):
    """An unknown address costs a real password verification, so timing does not tell it apart."""
    real_burn = services.burn_verification_time
    burned = []

    def recording_burn(password):
        burned.append(password)
        real_burn(password)

    monkeypatch.setattr(services, "burn_verification_time", recording_burn)
    with pytest.raises(services.LoginFailed) as refused:
        services.authenticate(db.session, "ghost@example.org", "whatever-password")
    assert refused.value.code == "login_failed"
    assert burned == ["whatever-password"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 0


def test_email_is_case_insensitive(client, make_user, db):
    user = make_user(name="Mixed Case", email="Mixed@Example.org")
    assert user.email == "mixed@example.org"
    response = client.post("/login", data={"email": " MIXED@example.ORG ", "password": PASSWORD})
    assert response.headers["Location"] == "/"
    assert db.session.scalars(sa.select(LoginSession.user_id)).all() == [user.id]
    assert "Mixed Case" in client.get("/").get_data(as_text=True)


def test_disabled_account_cannot_log_in(client, make_user, db):
    user = make_user()
    services.set_user_enabled(db.session, user, False)
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 0
    assert client.get("/").headers["Location"].startswith("/login")


def test_empty_login_form_shows_messages(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)


def test_login_starts_a_new_session(client, make_user, login_as):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login_as(user)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_logout_ends_the_session_even_for_a_copied_cookie(app, client, make_user, login_as):
    user = make_user()
    login_as(user)
    stolen = client.get_cookie("session", domain="stall.test").value
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="stall.test")
    response = thief.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_remember_me_lasts_at_most_30_days(app, client, make_user, login_as, db):
    user = make_user()
    login_as(user, remember=True)
    cookie = client.get_cookie("remember_token", domain="stall.test")
    assert cookie is not None
    assert cookie.expires is not None
    login = db.session.scalar(sa.select(LoginSession))
    assert login.remember
    assert login.expires_at - login.created_at <= timedelta(days=30)

    # The remember cookie alone brings the login back, until the login session is revoked.
    other = app.test_client()
    other.set_cookie("remember_token", cookie.value, domain="stall.test")
    assert other.get("/").status_code == 200
    services.end_all_login_sessions(db.session, user)
    db.session.commit()
    revived = app.test_client()
    revived.set_cookie("remember_token", cookie.value, domain="stall.test")
    assert revived.get("/").status_code == 302


def test_expired_login_session_is_refused(client, make_user, login_as, db):
    user = make_user()
    login_as(user)
    login = db.session.scalar(sa.select(LoginSession))
    login.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/").status_code == 302


def test_password_change_ends_other_sessions(app, client, make_user, login_as):
    user = make_user()
    login_as(user)
    other_phone = app.test_client()
    other_phone.post("/login", data={"email": user.email, "password": PASSWORD})
    assert other_phone.get("/").status_code == 200

    response = client.post(
        "/account",
        data={
            "password-current_password": PASSWORD,
            "password-password": "a brand new passphrase",
            "password-confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other_phone.get("/").status_code == 302


def test_password_change_with_wrong_current_password_changes_nothing(
    client, make_user, login_as, db
):
    user = make_user()
    login_as(user)
    old_hash = user.password_hash
    response = client.post(
        "/account",
        data={
            "password-current_password": "not my password",
            "password-password": "a brand new passphrase",
            "password-confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 200
    assert "Your current password is not right." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_admin_disabling_an_account_ends_its_sessions(app, client, make_user, login_as):
    admin = make_user(is_admin=True)
    victim = make_user()
    phone = app.test_client()
    phone.post("/login", data={"email": victim.email, "password": PASSWORD})
    assert phone.get("/").status_code == 200
    login_as(admin)
    assert client.post(f"/admin/users/{victim.id}/enabled").status_code == 302
    assert phone.get("/").status_code == 302


def test_login_rehashes_when_parameters_change(app, make_user, db):
    user = make_user()
    old_hash = user.password_hash
    app.config["ARGON2_TIME_COST"] = 2
    assert passwords.needs_rehash(old_hash)
    services.authenticate(db.session, user.email, PASSWORD)
    db.session.commit()
    assert user.password_hash != old_hash
    assert user.password_hash.startswith("$argon2id$")
    assert not passwords.needs_rehash(user.password_hash)


def test_profile_language_is_saved(client, make_user, login_as, db):
    user = make_user()
    login_as(user)
    response = client.post("/account", data={"profile-name": "New Name", "profile-locale": "fr"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.name, user.locale) == ("New Name", "fr")
