"""QR journey in Chromium at phone width: create a code, print it as a table card, scan it."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from stallapp.qr.models import QrCode
from tests.qr_reader import decode_png

pytestmark = pytest.mark.browser


def test_create_print_and_scan_a_table_card(
    phone, live_server, make_group, make_user, login_as, db
):
    uk = make_group(slug="uk", name="CWO (UK)")
    make_user(email="olive@example.org", groups={uk: "organiser"})
    phone.goto("/login")
    phone.get_by_label("Email").fill("olive@example.org")
    phone.get_by_label("Password").fill("correct horse battery")
    phone.get_by_role("button", name="Log in").click()

    phone.goto("/groups/uk/qr")
    phone.get_by_role("button", name="Create the code").click()
    expect(phone.get_by_text("This field is required.")).to_be_visible()
    phone.get_by_label("Label").fill("table card Peterborough")
    phone.get_by_label("Leads to").select_option("join")
    phone.get_by_role("button", name="Create the code").click()
    expect(phone.get_by_role("heading", name="table card Peterborough")).to_be_visible()

    phone.get_by_role("link", name="A6 table card").click()
    expect(phone.get_by_role("heading", name="Join our mailing list")).to_be_visible()
    qr_code = db.session.scalar(sa.select(QrCode))
    short_url = f"{live_server.url}/q/{qr_code.code}"
    expect(phone.get_by_text(short_url)).to_be_visible()
    card = phone.locator(".sheet").screenshot()
    assert decode_png(card) == short_url

    visitor = phone.context.browser.new_context(viewport={"width": 390, "height": 844})
    scan = visitor.new_page()
    scan.goto(short_url)
    assert scan.url.endswith("/g/uk/join")
    visitor.close()
    db.session.commit()  # end the test's read snapshot to see the server's write
    assert db.session.scalar(sa.select(QrCode.scan_count)) == 1
