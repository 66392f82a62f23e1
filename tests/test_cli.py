"""Command-line tasks."""

import sqlalchemy as sa

from stallapp.accounts import passwords, services
from stallapp.accounts.models import Group, Membership, Role, User
from stallapp.demo import DEMO_PASSWORD


def test_create_admin_prompts_for_a_password(runner, db):
    result = runner.invoke(
        args=["create-admin", "Boss@Example.org"], input="a long admin pass\na long admin pass\n"
    )
    assert result.exit_code == 0, result.output
    user = services.find_user_by_email(db.session, "boss@example.org")
    assert user.is_admin
    assert passwords.verify_password(user.password_hash, "a long admin pass")


def test_create_admin_refuses_a_weak_password(runner, db):
    result = runner.invoke(args=["create-admin", "boss@example.org"], input="password\npassword\n")
    assert result.exit_code != 0
    assert "most common" in result.output
    assert services.find_user_by_email(db.session, "boss@example.org") is None


def test_demo_data_is_idempotent(runner, db):
    for _ in range(2):
        result = runner.invoke(args=["demo-data"])
        assert result.exit_code == 0, result.output
    assert "organiser@example.org" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Group)) == 4
    users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    memberships = db.session.scalar(sa.select(sa.func.count()).select_from(Membership))
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == memberships


def test_demo_accounts_match_the_readme(runner, db):
    runner.invoke(args=["demo-data"])
    organiser = services.find_user_by_email(db.session, "organiser@example.org")
    assert passwords.verify_password(organiser.password_hash, DEMO_PASSWORD)
    roles = {group.slug: role for group, role in services.groups_of(db.session, organiser)}
    assert roles == {"uk": Role.ORGANISER, "nyc": Role.MEMBER}
    member = services.find_user_by_email(db.session, "member@example.org")
    assert {group.slug: role for group, role in services.groups_of(db.session, member)} == {
        "uk": Role.MEMBER
    }
    assert services.find_user_by_email(db.session, "admin@example.org").is_admin
    zones = dict(db.session.execute(sa.select(Group.slug, Group.timezone)).all())
    assert zones == {
        "uk": "Europe/London",
        "nyc": "America/New_York",
        "montreal": "America/Toronto",
        "italia": "Europe/Rome",
    }
    montreal = db.session.scalar(sa.select(Group).where(Group.slug == "montreal"))
    assert (montreal.currency, montreal.language) == ("CAD", "fr")


def test_first_run_flag_leaves_a_used_database_alone(runner, make_user, db):
    make_user()
    result = runner.invoke(args=["demo-data", "--first-run"])
    assert "not loaded" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Group)) == 0


def test_demo_gives_each_group_a_join_table_card(runner, db):
    from stallapp.qr.models import QrCode, QrPurpose

    runner.invoke(args=["demo-data"])
    runner.invoke(args=["demo-data"])
    rows = db.session.execute(sa.select(QrCode.group_id, QrCode.purpose)).all()
    assert len(rows) == 4
    assert {purpose for _, purpose in rows} == {QrPurpose.JOIN}
