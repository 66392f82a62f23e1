"""Organisers manage their own group's members, and nobody else's."""

import pytest
import sqlalchemy as sa

from stallapp.accounts import services
from stallapp.accounts.models import Membership, Role


@pytest.fixture
def setup(make_group, make_user):
    uk = make_group(slug="uk")
    nyc = make_group(slug="nyc")
    organiser = make_user(name="Olive", groups={uk: "organiser"})
    member = make_user(name="Max", groups={uk: "member"})
    stranger = make_user(name="Sam", groups={nyc: "member"})
    return uk, nyc, organiser, member, stranger


def _membership(db, user, group):
    return services.membership_of(db.session, user, group)


def test_organiser_sees_and_promotes_a_member(client, setup, login_as, db):
    uk, _, organiser, member, _ = setup
    login_as(organiser)
    page = client.get("/groups/uk/members").get_data(as_text=True)
    assert "Max" in page and "Olive" in page
    membership = _membership(db, member, uk)
    response = client.post(f"/groups/uk/members/{membership.id}/role", data={"role": "organiser"})
    assert response.status_code == 302
    db.session.expire_all()
    assert _membership(db, member, uk).role == Role.ORGANISER


def test_organiser_removes_a_member(client, setup, login_as, db):
    uk, _, organiser, member, _ = setup
    login_as(organiser)
    membership = _membership(db, member, uk)
    assert client.post(f"/groups/uk/members/{membership.id}/remove").status_code == 302
    db.session.expire_all()
    assert _membership(db, member, uk) is None


def test_last_organiser_cannot_step_down_or_be_removed(client, setup, login_as, db):
    uk, _, organiser, _, _ = setup
    login_as(organiser)
    membership = _membership(db, organiser, uk)
    response = client.post(
        f"/groups/uk/members/{membership.id}/role", data={"role": "member"}, follow_redirects=True
    )
    assert "A group needs at least one organiser." in response.get_data(as_text=True)
    response = client.post(f"/groups/uk/members/{membership.id}/remove", follow_redirects=True)
    assert "A group needs at least one organiser." in response.get_data(as_text=True)
    db.session.expire_all()
    assert _membership(db, organiser, uk).role == Role.ORGANISER


def test_last_organiser_rule_in_the_service(setup, db):
    uk, _, organiser, _, _ = setup
    with pytest.raises(services.LastOrganiser) as caught:
        services.change_role(db.session, _membership(db, organiser, uk), Role.MEMBER)
    assert caught.value.code == "last_organiser"


def test_membership_of_another_group_is_404(client, setup, login_as, db):
    _, nyc, organiser, _, stranger = setup
    login_as(organiser)
    foreign = _membership(db, stranger, nyc)
    assert client.post(f"/groups/uk/members/{foreign.id}/remove").status_code == 404
    assert client.post(f"/groups/nyc/members/{foreign.id}/remove").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 3


def test_member_cannot_manage_members(client, setup, login_as, db):
    uk, _, organiser, member, _ = setup
    login_as(member)
    target = _membership(db, organiser, uk)
    assert client.get("/groups/uk/members").status_code == 403
    assert client.post(f"/groups/uk/members/{target.id}/remove").status_code == 403


def test_user_in_several_groups_sees_each(client, make_group, make_user, login_as):
    uk = make_group(slug="uk", name="CWO (UK)")
    nyc = make_group(slug="nyc", name="IWG New York")
    user = make_user(groups={uk: "organiser", nyc: "member"})
    login_as(user)
    page = client.get("/").get_data(as_text=True)
    assert "CWO (UK)" in page and "IWG New York" in page
    assert client.get("/groups/uk/members").status_code == 200
    assert client.get("/groups/nyc/members").status_code == 403
