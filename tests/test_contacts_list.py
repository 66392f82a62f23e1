"""The organisers' contacts list and the mailing-list CSV export."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from stallapp.contacts import services
from stallapp.qr.models import QrCode, QrPurpose
from tests.builders import add_registration, meeting_row


@pytest.fixture
def nyc(make_group):
    return make_group(slug="nyc", name="IWG New York", timezone="America/New_York")


@pytest.fixture
def organiser(make_user, nyc):
    return make_user(groups={nyc: "organiser"})


def subscribe(db, group, email, name, **details):
    result = services.sign_up(
        db.session, group, email=email, name=name, consent_text="I agree (NY wording)", **details
    )
    services.confirm_mailing(db.session, result.confirmation_token)
    return result.contact


def rows_of(response):
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), "a byte-order mark, so spreadsheets read UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_export_lists_only_confirmed_subscribed_contacts(
    client, nyc, organiser, login_as, make_group, db
):
    subscribe(db, nyc, "zoe@example.org", "Zoë Łukasz", city="Brooklyn", interests="meetings")
    gone = subscribe(db, nyc, "gone@example.org", "Gone")
    services.unsubscribe(db.session, gone.unsubscribe_token)
    services.sign_up(db.session, nyc, email="pending@example.org", name="P", consent_text="x")
    services.receive_message(db.session, nyc, email="wrote@example.org", name="W", body="Hi")
    subscribe(db, make_group(slug="elsewhere"), "other@example.org", "Other group")
    subscribe(db, nyc, "mallory@example.org", '=HYPERLINK("http://evil")')
    db.session.commit()
    login_as(organiser)

    response = client.get("/groups/nyc/contacts/mailing-list.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = rows_of(response)
    assert response.headers["Content-Disposition"] == 'attachment; filename="nyc-mailing-list.csv"'
    assert header == ["name", "email", "city", "interests", "consented_at", "consent_wording"]
    assert [row[1] for row in rows] == ["mallory@example.org", "zoe@example.org"]
    mallory, zoe = rows
    assert zoe[:4] == ["Zoë Łukasz", "zoe@example.org", "Brooklyn", "meetings"]
    consented = datetime.fromisoformat(zoe[4])
    new_york = consented.astimezone(ZoneInfo("America/New_York"))
    assert consented.utcoffset() == new_york.utcoffset(), "consent time in the group's zone"
    assert zoe[4] == consented.isoformat(timespec="seconds"), "ISO 8601, to the second"
    assert zoe[5] == "I agree (NY wording)"
    assert mallory[0] == '\'=HYPERLINK("http://evil")', "a formula typed by the public is not run"


def test_members_cannot_export(client, nyc, make_user, login_as):
    login_as(make_user(groups={nyc: "member"}))
    assert client.get("/groups/nyc/contacts/mailing-list.csv").status_code == 403
    assert client.get("/groups/nyc/contacts/").status_code == 403


def test_contacts_list_shows_consent_and_origin(client, nyc, organiser, login_as, db):
    meeting = meeting_row(db.session, nyc, title="Monthly meeting at the Peculier Pub")
    code = QrCode(group_id=nyc.id, code="tbl1", purpose=QrPurpose.JOIN, label="table card")
    db.session.add(code)
    db.session.flush()
    services.sign_up(
        db.session,
        nyc,
        email="joined@example.org",
        name="Joan Joiner",
        consent_text="x",
        source_qr_code_id=code.id,
    )
    registrant = services.record_contact(
        db.session, nyc, email="reg@example.org", name="Reg Registrant", source_event_id=meeting.id
    )
    add_registration(db, meeting, email="reg@example.org", contact=registrant)
    services.receive_message(db.session, nyc, email="w@example.org", name="Wanda Writer", body="Hi")
    confirmed = subscribe(db, nyc, "sub@example.org", "Sam Subscriber")
    services.unsubscribe(db.session, confirmed.unsubscribe_token)
    db.session.commit()
    login_as(organiser)

    page = client.get("/groups/nyc/contacts/").get_data(as_text=True)
    for name in ("Joan Joiner", "Reg Registrant", "Wanda Writer", "Sam Subscriber"):
        assert name in page
    assert "Not confirmed" in page
    assert "Unsubscribed" in page
    assert "did not ask for mailings" in page
    assert "Monthly meeting at the Peculier Pub" in page
    assert "table card" in page
    assert "1 registration" in page and "1 message" in page

    found = client.get("/groups/nyc/contacts/?q=wanda").get_data(as_text=True)
    assert "Wanda Writer" in found and "Joan Joiner" not in found


def test_contacts_list_statement_count_does_not_grow(
    client, nyc, organiser, login_as, count_statements, db
):
    login_as(organiser)

    def measure():
        with count_statements() as counter:
            assert client.get("/groups/nyc/contacts/").status_code == 200
        return counter.count

    meeting = meeting_row(db.session, nyc)
    services.receive_message(db.session, nyc, email="a@example.org", name="A", body="Hi")
    db.session.commit()
    few = measure()
    for number in range(10):
        contact = services.record_contact(
            db.session, nyc, email=f"p{number}@example.org", source_event_id=meeting.id
        )
        add_registration(db, meeting, email=contact.email, contact=contact)
    db.session.commit()
    assert measure() == few
