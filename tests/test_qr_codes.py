"""QR codes: what they hold, how they scan, who may make them."""

from datetime import datetime

import pytest
import sqlalchemy as sa

from stallapp.contacts.models import Contact
from stallapp.contacts.services import record_contact
from stallapp.errors import ValidationFailed
from stallapp.qr import services
from stallapp.qr.models import QrCode, QrPurpose
from tests.builders import event_row
from tests.qr_reader import decode_png


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", name="CWO (UK)")


@pytest.fixture
def organiser(make_user, uk):
    return make_user(groups={uk: "organiser"})


@pytest.fixture
def stall(db, uk):
    event = event_row(
        db.session,
        uk,
        local=datetime(2030, 10, 19, 10, 0),
        timezone="Europe/London",
        public_code="pbf2030x",
        postcode="PE2 8QS",
    )
    db.session.commit()
    return event


def test_png_decodes_to_the_short_scan_url(app, client, organiser, uk, login_as, db):
    app.config["PUBLIC_BASE_URL"] = "https://stalls.example.org/"
    login_as(organiser)
    response = client.post("/groups/uk/qr", data={"label": "table card", "purpose": "join"})
    assert response.status_code == 302
    qr_code = db.session.scalar(sa.select(QrCode))
    assert len(qr_code.code) >= 8
    png = client.get(f"/groups/uk/qr/{qr_code.id}/code.png")
    assert png.mimetype == "image/png"
    assert decode_png(png.data) == f"https://stalls.example.org/q/{qr_code.code}"


def test_svg_download_uses_medium_error_correction_and_a_quiet_zone(app, organiser, uk, db):
    qr_code = services.create_qr_code(db.session, uk, QrPurpose.JOIN, "leaflet")
    db.session.commit()
    url = services.payload_url(qr_code)  # on PUBLIC_BASE_URL, with no request to ask
    matrix = services._matrix(url)
    svg = services.render_svg(url).decode()
    assert url == f"http://stall.test/q/{qr_code.code}"
    assert matrix.error_correction == services.ERROR_CORRECTION
    assert matrix.border == 4
    assert svg.startswith("<?xml") and "<svg" in svg


def test_event_code_needs_an_event_of_the_group(app, make_group, organiser, uk, stall, db):
    with pytest.raises(ValidationFailed) as caught:
        services.create_qr_code(db.session, uk, QrPurpose.EVENT, "poster")
    assert caught.value.code == "event_required"
    other = make_group(slug="other")
    with pytest.raises(ValidationFailed):
        services.create_qr_code(db.session, other, QrPurpose.EVENT, "poster", stall)
    code = services.create_qr_code(db.session, uk, QrPurpose.EVENT, "poster", stall)
    assert code.event_id == stall.id


def test_empty_label_is_refused_on_the_form(client, organiser, uk, login_as, db):
    login_as(organiser)
    response = client.post("/groups/uk/qr", data={"label": "", "purpose": "join"})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QrCode)) == 0


def test_event_purpose_without_event_is_refused_on_the_form(client, organiser, uk, login_as, db):
    login_as(organiser)
    response = client.post(
        "/groups/uk/qr", data={"label": "poster", "purpose": "event", "event_id": "0"}
    )
    assert "Choose the event this code leads to." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QrCode)) == 0


def test_scan_counts_and_redirects(app, client, uk, stall, db):
    codes = {
        QrPurpose.JOIN: "/g/uk/join",
        QrPurpose.CONTACT: "/g/uk/contact",
        QrPurpose.GROUP_PAGE: "/g/uk",
        QrPurpose.CATALOGUE: "/g/uk/publications",
        QrPurpose.EVENT: f"/e/{stall.public_code}",
    }
    for purpose, target in codes.items():
        event = stall if purpose == QrPurpose.EVENT else None
        qr_code = services.create_qr_code(db.session, uk, purpose, purpose.value, event)
        db.session.commit()
        for _ in range(2):
            response = client.get(f"/q/{qr_code.code}")
            assert response.status_code == 302
            assert response.headers["Location"] == target
            assert response.headers["Cache-Control"] == "no-store"
        db.session.refresh(qr_code)
        assert qr_code.scan_count == 2


def test_unknown_code_is_404(client):
    assert client.get("/q/nope").status_code == 404


def test_a_sign_up_after_a_scan_credits_the_code(client, uk, db):
    qr_code = services.create_qr_code(db.session, uk, QrPurpose.JOIN, "table card")
    db.session.commit()
    assert client.get(f"/q/{qr_code.code}").status_code == 302
    client.post(
        "/g/uk/join",
        data={"name": "Reader", "email": "reader@example.org", "consent": "y"},
    )
    assert db.session.scalar(sa.select(Contact.source_qr_code_id)) == qr_code.id


def test_record_contact_credits_only_the_code_it_is_given_and_of_its_group(app, make_group, uk, db):
    own = services.create_qr_code(db.session, uk, QrPurpose.JOIN, "table card")
    foreign = services.create_qr_code(db.session, make_group(slug="other"), QrPurpose.JOIN, "x")
    with app.test_request_context():
        from flask import session

        session["scanned_qr_code_id"] = own.id
        uncredited = record_contact(db.session, uk, email="seller@example.org")
    credited = record_contact(db.session, uk, email="reader@example.org", source_qr_code_id=own.id)
    wandered = record_contact(
        db.session, uk, email="wanderer@example.org", source_qr_code_id=foreign.id
    )
    db.session.commit()
    assert uncredited.source_qr_code_id is None, "the service never reads the session cookie"
    assert credited.source_qr_code_id == own.id
    assert wandered.source_qr_code_id is None


def test_print_page_shows_the_event_time_place_and_short_url(
    client, organiser, uk, stall, login_as, db
):
    qr_code = services.create_qr_code(db.session, uk, QrPurpose.EVENT, "table card", stall)
    db.session.commit()
    login_as(organiser)
    for paper in ("a6", "a4"):
        page = client.get(f"/groups/uk/qr/{qr_code.id}/print/{paper}").get_data(as_text=True)
        assert "Peterborough Radical Bookfair" in page
        assert "Saturday, 19 October 2030, 10:00–17:00" in page
        assert "The George Alcock Centre" in page and "PE2 8QS" in page
        assert f"/q/{qr_code.code}" in page
        assert f"paper-{paper}" in page
        assert "<svg" in page
    assert client.get(f"/groups/uk/qr/{qr_code.id}/print/letter").status_code == 404


def test_other_groups_codes_are_404(client, make_group, make_user, uk, login_as, db):
    other = make_group(slug="other")
    qr_code = services.create_qr_code(db.session, other, QrPurpose.JOIN, "theirs")
    db.session.commit()
    login_as(make_user(groups={uk: "organiser"}))
    for suffix in ("", "/code.svg", "/code.png", "/print/a6"):
        assert client.get(f"/groups/uk/qr/{qr_code.id}{suffix}").status_code == 404


def test_members_cannot_make_codes(client, make_user, uk, login_as, db):
    login_as(make_user(groups={uk: "member"}))
    assert client.post("/groups/uk/qr", data={"label": "x", "purpose": "join"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QrCode)) == 0
