"""Password reset by an emailed single-use link that expires in an hour."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from stallapp.accounts import passwords, services
from stallapp.accounts.models import PasswordReset
from stallapp.errors import InvalidToken
from stallapp.tokens import hash_token
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


def _request_link(client, mail, email: str) -> str:
    client.post("/forgot-password", data={"email": email})
    return path_of(link_in(mail[-1]))


def test_using_one_link_ends_the_other(app, client, make_user, mail, db):
    user = make_user()
    first = _request_link(client, mail, user.email)
    app.config["PASSWORD_RESET_EMAIL_INTERVAL"] = timedelta(0)
    second = _request_link(client, mail, user.email)
    assert first != second
    assert client.get(first).status_code == client.get(second).status_code == 200

    response = client.post(
        second, data={"password": "solidarity forever", "confirm": "solidarity forever"}
    )
    assert response.status_code == 302
    refused = client.post(
        first, data={"password": "another good one", "confirm": "another good one"}
    )
    assert refused.status_code == 404
    assert "Link not valid" in refused.get_data(as_text=True)
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, "solidarity forever")


def test_changing_the_password_ends_outstanding_links(client, make_user, login_as, mail, db):
    user = make_user()
    link = _request_link(client, mail, user.email)
    login_as(user)
    response = client.post(
        "/account",
        data={
            "password-current_password": PASSWORD,
            "password-password": "a brand new passphrase",
            "password-confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get(link).status_code == 404
    with pytest.raises(InvalidToken):
        services.reset_password(db.session, link.rsplit("/", 1)[1], "taken over at last")
    db.session.rollback()
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, "a brand new passphrase")


def test_reset_emails_are_limited_per_account(app, make_user, mail, db):
    user = make_user()
    # Four posts from four addresses: the per-account limit holds, not the per-address one.
    for number in range(4):
        app.test_client().post(
            "/forgot-password",
            data={"email": user.email},
            environ_base={"REMOTE_ADDR": f"198.51.100.{number}"},
        )
    assert [message.to for message in mail] == [user.email]
    requests = db.session.scalars(sa.select(PasswordReset).order_by(PasswordReset.id)).all()
    assert [reset.emailed for reset in requests] == [True, False, False, False]
    # Only the emailed link works; the held-back rows' tokens were never given to anyone.
    assert app.test_client().get(path_of(link_in(mail[0]))).status_code == 200


def test_reset_email_limit_per_hour(app, make_user, mail, db):
    user = make_user()
    app.config["PASSWORD_RESET_EMAIL_INTERVAL"] = timedelta(0)
    for _ in range(5):
        services.request_password_reset(db.session, user.email)
    db.session.commit()
    emailed = db.session.scalars(sa.select(PasswordReset.emailed).order_by(PasswordReset.id))
    assert list(emailed) == [True, True, True, False, False]


def test_held_back_request_answers_like_a_sent_one(app, make_user, mail):
    user = make_user()
    client = app.test_client()
    sent = client.post("/forgot-password", data={"email": user.email})
    held_back = client.post("/forgot-password", data={"email": user.email})
    assert len(mail) == 1
    assert _without_csrf(sent) == _without_csrf(held_back)


def _without_csrf(response) -> str:
    """The page with any CSRF token blanked: the one part allowed to differ between answers."""
    return re.sub(
        r'(name="csrf[_-]token"[^>]*(?:value|content)=)"[^"]*"',
        r'\1""',
        response.get_data(as_text=True),
    )


def test_known_and_unknown_addresses_cost_the_same_statements_and_answer(
    app, make_user, mail, count_statements, db
):
    make_user(email="known@example.org")
    answers, counts = {}, {}
    for email in ("known@example.org", "unknown@example.org"):
        client = app.test_client()
        client.get("/forgot-password")
        with count_statements() as counter:
            answers[email] = client.post("/forgot-password", data={"email": email})
        counts[email] = counter.statements
    assert [message.to for message in mail] == ["known@example.org"]
    assert len(counts["known@example.org"]) == len(counts["unknown@example.org"])
    assert counts["known@example.org"] == counts["unknown@example.org"], "same SQL, other values"
    known, unknown = answers["known@example.org"], answers["unknown@example.org"]
    assert known.status_code == unknown.status_code == 200
    assert _without_csrf(known) == _without_csrf(unknown)
    # Each path wrote its one request row; the unknown one can never become a link.
    rows = db.session.scalars(sa.select(PasswordReset).order_by(PasswordReset.id)).all()
    assert [(row.user_id is not None, row.emailed) for row in rows] == [
        (True, True),
        (False, False),
    ]
    assert all(len(row.token_hash) == 64 for row in rows)
    assert rows[1].email_hash == hash_token("unknown@example.org"), "no address in clear"


def test_same_hashing_work_for_known_and_unknown_addresses(app, make_user, monkeypatch, db):
    make_user(email="known@example.org")
    hashed = []
    real_hash = services.hash_token
    monkeypatch.setattr(services, "hash_token", lambda value: hashed.append(1) or real_hash(value))
    real_new_token = services.new_token
    monkeypatch.setattr(services, "new_token", lambda: hashed.append(2) or real_new_token())
    services.request_password_reset(db.session, "known@example.org")
    known = list(hashed)
    hashed.clear()
    services.request_password_reset(db.session, "unknown@example.org")
    assert known == hashed == [1, 2]


def test_purge_deletes_requests_past_their_use(app, runner, make_user, db):
    user = make_user()
    services.request_password_reset(db.session, user.email)
    services.request_password_reset(db.session, "nobody@example.org")
    services.request_password_reset(db.session, "recent@example.org")
    old_rows = db.session.scalars(sa.select(PasswordReset).order_by(PasswordReset.id)).all()[:2]
    for row in old_rows:
        row.created_at = row.created_at - timedelta(hours=1, minutes=1)
    db.session.commit()
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "Old password reset requests deleted: 2" in result.output
    remaining = db.session.scalars(sa.select(PasswordReset.email_hash)).all()
    assert remaining == [hash_token("recent@example.org")]
