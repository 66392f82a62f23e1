"""Retention: the settings page, and ``flask purge-expired`` with times moved into the past."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from stallapp.contacts import privacy, services
from stallapp.contacts.models import Contact, ContactMessage, RetentionPolicy
from stallapp.database import utcnow
from stallapp.errors import ValidationFailed
from stallapp.events.models import Registration
from tests.builders import add_registration, meeting_row


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)")


def sign_up(db, group, email, *, days_ago=0, confirm=False):
    result = services.sign_up(db.session, group, email=email, name=email, consent_text="x")
    contact = result.contact
    if confirm:
        services.confirm_mailing(db.session, result.confirmation_token)
    moved = utcnow() - timedelta(days=days_ago)
    contact.mailing_consent_at = moved
    contact.last_activity_at = moved
    db.session.flush()
    return contact


def emails(db):
    return sorted(db.session.scalars(sa.select(Contact.email)))


def run_purge(runner):
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    return result.output


def test_unconfirmed_sign_ups_go_after_seven_days_but_only_what_is_unconfirmed(runner, uk, db):
    sign_up(db, uk, "stale@example.org", days_ago=8)
    sign_up(db, uk, "fresh@example.org", days_ago=3)
    wrote = sign_up(db, uk, "wrote@example.org", days_ago=8)
    services.receive_message(db.session, uk, email="wrote@example.org", name="W", body="Hi")
    registered = sign_up(db, uk, "registered@example.org", days_ago=8)
    add_registration(
        db,
        meeting_row(db.session, uk),
        email="registered@example.org",
        contact=registered,
    )
    sign_up(db, uk, "confirmed@example.org", days_ago=30, confirm=True)
    db.session.commit()

    output = run_purge(runner)
    assert "Unconfirmed sign-ups deleted: 1" in output
    assert "Unconfirmed sign-ups withdrawn (contact kept for other activity): 2" in output
    db.session.expire_all()
    assert emails(db) == [
        "confirmed@example.org",
        "fresh@example.org",
        "registered@example.org",
        "wrote@example.org",
    ]
    for kept in (wrote, registered):
        db.session.refresh(kept)
        assert kept.mailing_consent_at is None and kept.mailing_consent_text == ""
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactMessage)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 1


def test_inactive_contacts_go_after_the_group_setting(runner, uk, make_group, db):
    old = sign_up(db, uk, "old@example.org", confirm=True)
    services.receive_message(db.session, uk, email="old@example.org", name="Old", body="Hello")
    past_event = meeting_row(db.session, uk, ends_at=utcnow() - timedelta(days=20))
    registration = add_registration(db, past_event, email="old@example.org", contact=old)
    old.last_activity_at = utcnow() - timedelta(days=25 * 31)
    sign_up(db, uk, "recent@example.org", confirm=True).last_activity_at = utcnow() - timedelta(
        days=23 * 30
    )
    strict = make_group(slug="strict")
    privacy.save_retention_policy(db.session, strict, contact_months=12, registration_months=6)
    sign_up(db, strict, "strict@example.org", confirm=True).last_activity_at = utcnow() - (
        timedelta(days=13 * 31)
    )
    db.session.commit()
    registration_id = registration.id

    output = run_purge(runner)
    assert "Inactive contacts deleted: 2" in output
    assert "Messages deleted with them: 1" in output
    assert "Registrations anonymised: 1" in output
    db.session.expire_all()
    assert emails(db) == ["recent@example.org"]
    kept = db.session.get(Registration, registration_id)
    assert kept is not None, "the row stays so the event's figures stay right"
    assert kept.email == "" and kept.contact_id is None and kept.anonymised_at is not None


def test_registrations_are_anonymised_months_after_their_event(runner, uk, db):
    person = sign_up(db, uk, "person@example.org", confirm=True)
    long_ago = meeting_row(
        db.session, uk, title="Old meeting", ends_at=utcnow() - timedelta(days=7 * 31)
    )
    recent = meeting_row(db.session, uk, title="Last month", ends_at=utcnow() - timedelta(days=20))
    old_registration = add_registration(db, long_ago, email="person@example.org", contact=person)
    new_registration = add_registration(db, recent, email="person@example.org", contact=person)
    db.session.commit()
    old_id, new_id = old_registration.id, new_registration.id

    output = run_purge(runner)
    assert "Registrations anonymised: 1" in output
    db.session.expire_all()
    assert db.session.get(Registration, old_id).anonymised_at is not None
    assert db.session.get(Registration, old_id).name == ""
    assert db.session.get(Registration, new_id).email == "person@example.org"
    assert emails(db) == ["person@example.org"], "the contact itself is still active"
    # Running it again finds nothing more to do.
    assert "Registrations anonymised: 0" in run_purge(runner)


def test_purge_reports_counts_never_names(runner, uk, db):
    sign_up(db, uk, "secret.person@example.org", days_ago=9)
    db.session.commit()
    output = run_purge(runner)
    assert "secret" not in output and "@" not in output
    assert all(line.rsplit(": ", 1)[1].isdigit() for line in output.strip().splitlines())


def test_expired_links_are_deleted(runner, uk, db):
    sign_up(db, uk, "link@example.org")
    privacy.request_erasure(db.session, uk, "link@example.org")
    db.session.commit()
    assert "Expired confirmation and erasure links deleted: 0" in run_purge(runner)
    later = utcnow() + timedelta(days=8)
    report = privacy.purge_expired(db.session, now=later)
    assert report.expired_links_deleted == 2


def test_months_before_counts_calendar_months():
    assert privacy.months_before(datetime(2026, 3, 31, 12, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, 12, tzinfo=UTC
    )
    assert privacy.months_before(datetime(2026, 1, 15, tzinfo=UTC), 24) == datetime(
        2024, 1, 15, tzinfo=UTC
    )


def test_retention_settings_page(client, uk, make_user, login_as, db):
    organiser = make_user(groups={uk: "organiser"})
    login_as(organiser)
    page = client.get("/groups/uk/contacts/retention").get_data(as_text=True)
    assert 'value="24"' in page and 'value="6"' in page

    response = client.post(
        "/groups/uk/contacts/retention", data={"contact_months": "0", "registration_months": "6"}
    )
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert "Number must be between 1 and 120." in response.get_data(as_text=True)
    assert db.session.get(RetentionPolicy, uk.id) is None

    response = client.post(
        "/groups/uk/contacts/retention", data={"contact_months": "12", "registration_months": "3"}
    )
    assert response.status_code == 302
    policy = db.session.get(RetentionPolicy, uk.id)
    assert (policy.contact_months, policy.registration_months) == (12, 3)
    page = client.get("/groups/uk/contacts/retention").get_data(as_text=True)
    assert 'value="12"' in page and 'value="3"' in page


def test_retention_service_refuses_silly_periods(uk, db):
    with pytest.raises(ValidationFailed) as raised:
        privacy.save_retention_policy(db.session, uk, contact_months=0, registration_months=6)
    assert raised.value.code == "bad_months"
