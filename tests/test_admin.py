"""Site admins create groups, appoint organisers and disable accounts."""

import pytest
import sqlalchemy as sa

from stallapp.accounts import services
from stallapp.accounts.models import Group, Role
from stallapp.errors import NotAllowed
from tests.conftest import PASSWORD, link_in, path_of

GOOD_GROUP = {
    "name": "PCInt Milano",
    "slug": "milano",
    "timezone": "Europe/Rome",
    "currency": "eur",
    "language": "en",
}


def test_admin_creates_a_group(client, make_user, login_as, db):
    login_as(make_user(is_admin=True))
    response = client.post("/admin/groups", data=GOOD_GROUP)
    assert response.status_code == 302
    group = db.session.scalar(sa.select(Group).where(Group.slug == "milano"))
    assert (group.timezone, group.currency) == ("Europe/Rome", "EUR")


def test_bad_group_settings_are_explained_and_nothing_is_created(client, make_user, login_as, db):
    login_as(make_user(is_admin=True))
    response = client.post(
        "/admin/groups",
        data={**GOOD_GROUP, "slug": "Bad Slug", "timezone": "Mars/Olympus", "currency": "XXY"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Unknown time zone" in page
    assert "Unknown currency code." in page
    assert "lower-case letters" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Group)) == 0


def test_duplicate_slug_is_refused(client, make_user, make_group, login_as, db):
    make_group(slug="milano")
    login_as(make_user(is_admin=True))
    response = client.post("/admin/groups", data=GOOD_GROUP)
    assert "already used" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Group)) == 1


def test_admin_appoints_an_organiser_by_invitation(
    app, client, make_user, make_group, login_as, mail, db
):
    group = make_group(slug="milano")
    existing = make_user(email="compagna@example.org")
    login_as(make_user(is_admin=True))
    response = client.post(
        "/admin/groups/milano", data={"email": "compagna@example.org", "role": "organiser"}
    )
    assert response.status_code == 302
    link = path_of(link_in(mail[0]))
    # The address has an account: only that account, logged in, accepts (see the invitations).
    invitee = app.test_client()
    assert invitee.post(link).status_code == 403
    invitee.post("/login", data={"email": "compagna@example.org", "password": PASSWORD})
    assert invitee.post(link).status_code == 302
    assert services.membership_of(db.session, existing, group).role == Role.ORGANISER


def test_non_admins_are_refused(client, make_user, login_as, db):
    login_as(make_user())
    assert client.get("/admin/groups").status_code == 403
    assert client.post("/admin/groups", data=GOOD_GROUP).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Group)) == 0


def test_admin_cannot_disable_themselves(client, make_user, login_as, db):
    admin = make_user(is_admin=True)
    login_as(admin)
    response = client.post(f"/admin/users/{admin.id}/enabled", follow_redirects=True)
    assert "cannot disable your own account" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.is_enabled


def test_the_service_refuses_an_admin_disabling_their_own_account(make_user, db):
    admin = make_user(is_admin=True)
    other = make_user()
    with pytest.raises(NotAllowed) as refused:
        services.set_user_enabled(db.session, admin, False, by=admin)
    assert refused.value.code == "disable_yourself"
    assert admin.is_enabled
    services.set_user_enabled(db.session, other, False, by=admin)
    assert not other.is_enabled


def test_disabled_account_can_be_enabled_again(client, make_user, login_as, db):
    login_as(make_user(is_admin=True))
    other = make_user()
    client.post(f"/admin/users/{other.id}/enabled")
    db.session.refresh(other)
    assert not other.is_enabled
    client.post(f"/admin/users/{other.id}/enabled")
    db.session.refresh(other)
    assert other.is_enabled
