"""Invitations into a group, and the answers that must not reveal who has an account."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from stallapp.accounts import services
from stallapp.accounts.models import Invitation, LoginSession, Role, User
from stallapp.errors import InvalidToken
from tests.conftest import PASSWORD, link_in, path_of


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk")


@pytest.fixture
def organiser(make_user, uk):
    return make_user(name="Olive", groups={uk: "organiser"})


def test_new_person_accepts_an_invitation(app, client, organiser, uk, login_as, mail, db):
    login_as(organiser)
    response = client.post(
        "/groups/uk/members", data={"email": "New@Example.org", "role": "member"}
    )
    assert response.status_code == 302
    assert [message.to for message in mail] == ["new@example.org"]
    link = path_of(link_in(mail[0]))

    newcomer = app.test_client()
    page = newcomer.get(link)
    assert "new@example.org" in page.get_data(as_text=True)
    response = newcomer.post(
        link, data={"name": "Nadia", "password": "red flag flying", "confirm": "red flag flying"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/groups/uk/"
    assert newcomer.get("/groups/uk/").status_code == 200

    user = services.find_user_by_email(db.session, "new@example.org")
    assert user.name == "Nadia"
    assert services.membership_of(db.session, user, uk).role == Role.MEMBER
    # Single use: the same link does nothing a second time.
    assert app.test_client().get(link).status_code == 404


def test_invitation_form_refuses_bad_input_and_changes_nothing(app, organiser, uk, mail, db):
    _, token = services.invite(db.session, uk, "x@example.org", Role.MEMBER, organiser)
    db.session.commit()
    client = app.test_client()
    response = client.post(
        f"/invitation/{token}", data={"name": "", "password": "password", "confirm": "other"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This field is required." in page
    assert "most common" in page
    assert "The passwords differ." in page
    assert services.find_user_by_email(db.session, "x@example.org") is None
    assert services.live_invitation(db.session, token)


def test_existing_user_logs_in_then_accepts_and_gains_only_the_membership(
    app, make_group, make_user, organiser, uk, db
):
    nyc = make_group(slug="nyc")
    existing = make_user(email="both@example.org", groups={nyc: "member"})
    _, token = services.invite(db.session, uk, "both@example.org", Role.MEMBER, organiser)
    db.session.commit()
    link = f"/invitation/{token}"
    client = app.test_client()
    page = client.get(link).get_data(as_text=True)
    assert "already has an account. Log in with it to accept." in page
    assert 'type="password"' not in page
    assert f'href="/login?next={link}"' in page

    response = client.post(
        f"/login?next={link}", data={"email": "both@example.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == link
    page = client.get(link).get_data(as_text=True)
    assert "Accept the invitation" in page
    assert client.post(link).headers["Location"] == "/groups/uk/"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2
    roles = {group.slug: role for group, role in services.groups_of(db.session, existing)}
    assert roles == {"nyc": Role.MEMBER, "uk": Role.MEMBER}
    assert client.get("/groups/uk/").status_code == 200


@pytest.fixture
def admin_invitation(make_user, organiser, uk, db):
    """An organiser invites the site admin's address (as organiser, to make it worth stealing)."""
    admin = make_user(email="admin@example.org", name="Ada Admin", is_admin=True)
    _, token = services.invite(db.session, uk, "admin@example.org", Role.ORGANISER, organiser)
    db.session.commit()
    return admin, f"/invitation/{token}"


def _sessions_of(db, user) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id)
    )


def test_link_to_an_existing_account_never_logs_anyone_in(app, admin_invitation, uk, db):
    admin, link = admin_invitation
    holder = app.test_client()
    page = holder.get(link).get_data(as_text=True)
    assert "Log in to accept" in page
    assert "<form" not in page.split("<main")[1], "no accept button for someone not logged in"

    response = holder.post(link)
    assert response.status_code == 403
    assert "log in with it to accept" in response.get_data(as_text=True)
    # No session for the link holder: the dashboard sends them to the login page.
    assert holder.get("/").headers["Location"].startswith("/login")
    assert _sessions_of(db, admin) == 0
    assert services.membership_of(db.session, admin, uk) is None
    assert services.live_invitation(db.session, link.rsplit("/", 1)[1]).accepted_at is None


def test_another_logged_in_account_cannot_accept(
    app, admin_invitation, make_user, uk, login_as, client, db
):
    admin, link = admin_invitation
    intruder = make_user(email="intruder@example.org")
    login_as(intruder)
    page = client.get(link).get_data(as_text=True)
    assert "You are logged in as intruder@example.org" in page
    assert "Accept the invitation" not in page

    response = client.post(link)
    assert response.status_code == 403
    assert "for another account" in response.get_data(as_text=True)
    # Still the intruder, not the admin; the admin gained nothing and has no session.
    assert "intruder@example.org" in client.get("/account").get_data(as_text=True)
    assert _sessions_of(db, admin) == 0
    assert services.membership_of(db.session, admin, uk) is None
    assert services.membership_of(db.session, intruder, uk) is None


def test_the_invited_account_logged_in_accepts(admin_invitation, uk, login_as, client, db):
    admin, link = admin_invitation
    login_as(admin)
    assert client.post(link).headers["Location"] == "/groups/uk/"
    assert services.membership_of(db.session, admin, uk).role == Role.ORGANISER


def test_service_refuses_an_existing_account_to_anyone_else(admin_invitation, make_user, uk, db):
    admin, link = admin_invitation
    token = link.rsplit("/", 1)[1]
    with pytest.raises(services.InvitationNeedsLogin) as caught:
        services.accept_invitation(db.session, token, actor=None)
    assert caught.value.code == "invitation_needs_login"
    other = make_user()
    with pytest.raises(services.InvitationForAnotherAccount) as caught:
        services.accept_invitation(db.session, token, actor=other, name="X", password="long pass")
    assert caught.value.code == "invitation_for_another_account"
    db.session.rollback()
    assert services.membership_of(db.session, admin, uk) is None
    assert services.accept_invitation(db.session, token, actor=admin) == admin
    assert services.membership_of(db.session, admin, uk).role == Role.ORGANISER


def test_new_account_from_a_browser_logged_in_as_someone_else(
    app, client, make_user, organiser, uk, login_as, db
):
    other = make_user(email="other@example.org")
    login_as(other)
    _, token = services.invite(db.session, uk, "fresh@example.org", Role.MEMBER, organiser)
    db.session.commit()
    response = client.post(
        f"/invitation/{token}",
        data={"name": "Fresh", "password": "red flag flying", "confirm": "red flag flying"},
    )
    assert response.headers["Location"] == "/groups/uk/"
    assert "fresh@example.org" in client.get("/account").get_data(as_text=True)
    assert _sessions_of(db, other) == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LoginSession)
            .where(LoginSession.user_id == other.id, LoginSession.revoked_at.is_(None))
        )
        == 0
    )


def test_invitation_expires_after_seven_days(organiser, uk, db):
    invitation, token = services.invite(db.session, uk, "late@example.org", Role.MEMBER, organiser)
    assert invitation.expires_at - invitation.created_at <= timedelta(days=7, seconds=1)
    invitation.expires_at = invitation.created_at - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(InvalidToken) as caught:
        services.accept_invitation(db.session, token, name="Late", password="long enough pass")
    assert caught.value.code == "invalid_token"


def test_unknown_token_is_a_friendly_404(client):
    response = client.get("/invitation/not-a-token")
    assert response.status_code == 404
    assert "Link not valid" in response.get_data(as_text=True)


def test_organiser_answer_is_the_same_for_known_and_unknown_addresses(
    client, organiser, make_user, login_as
):
    make_user(email="known@example.org")
    login_as(organiser)
    known = client.post(
        "/groups/uk/members",
        data={"email": "known@example.org", "role": "member"},
        follow_redirects=True,
    )
    unknown = client.post(
        "/groups/uk/members",
        data={"email": "unknown@example.org", "role": "member"},
        follow_redirects=True,
    )
    assert "Invitation sent." in known.get_data(as_text=True)
    assert "Invitation sent." in unknown.get_data(as_text=True)


def test_invitation_with_a_bad_email_is_refused_on_the_form(client, organiser, login_as, db):
    login_as(organiser)
    response = client.post("/groups/uk/members", data={"email": "not-an-email", "role": "member"})
    assert response.status_code == 200
    assert "Invalid email address." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_members_cannot_invite(client, make_user, uk, login_as, db):
    member = make_user(groups={uk: "member"})
    login_as(member)
    assert client.post("/groups/uk/members", data={"email": "a@example.org"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
