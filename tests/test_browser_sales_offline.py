"""The sale screen with no network, in Chromium at phone width.

The live server is really stopped (Playwright's ``set_offline`` does not cover service-worker
requests): sales recorded meanwhile wait on the phone, survive a reload, and reach the ledger
once each when the server is back, however often and from however many tabs they are sent.
"""

import json

import pytest
import sqlalchemy as sa

from stallapp.sales.models import ClientOperation, Sale, SaleKind
from stallapp.stock import services as stock
from tests.browser import log_in as browser_log_in
from tests.browser import open_sale_screen, queue_entries
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, user):
    browser_log_in(page, user.email, PASSWORD)


def queued_operations(page) -> list:
    return [entry["op"] for entry in queue_entries(page)]


def tile(page, title):
    return page.locator("form[data-publication-id]", has_text=title).locator(".tile-button")


def fresh(db):
    db.session.commit()
    return db.session


def test_sales_made_with_the_server_down_reach_the_ledger_once(
    db, context, server, member, event, stall
):
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, event)

    server.stop()
    for _ in range(3):
        tile(page, "Revolutionary Perspectives").click()
    tile(page, "Aurora").click()
    page.get_by_text("Donation", exact=True).first.click()
    page.get_by_label("Amount", exact=True).fill("5")
    page.get_by_role("button", name="Record the donation").click()
    page.get_by_role("button", name="Sync now").click()
    status = page.locator("#sync-status")
    status.filter(has_text="5 waiting to sync").wait_for()
    assert "No connection" in status.text_content()

    page.reload()  # served by the service worker: the server is still down
    status.filter(has_text="5 waiting to sync").wait_for()
    assert page.locator(".recent-line.is-pending").count() == 5
    assert (
        tile(page, "Revolutionary Perspectives").locator(".tile-left").text_content() == "17 left"
    )
    batch = queued_operations(page)
    assert len(batch) == 5 and "subscriber" not in json.dumps(batch)
    assert fresh(db).scalar(sa.select(sa.func.count()).select_from(Sale)) == 0

    server.start()
    page.get_by_role("button", name="Sync now").click()
    status.filter(has_text="All synced").wait_for()
    assert page.locator(".recent-line.is-pending").count() == 0
    session = fresh(db)
    levels = stock.event_levels(session, event)
    assert levels[stall["journal"].id] == 17
    assert levels[stall["aurora"].id] == 29
    donation = session.scalar(sa.select(Sale).where(Sale.kind == SaleKind.DONATION))
    assert (donation.amount, donation.currency) == (500, "GBP")

    # The same batch sent again three times, then from two tabs at once: counted once.
    send = """async ([url, operations]) => {
        const token = (await (await fetch('/sale/csrf-token')).json()).csrf_token;
        const response = await fetch(url, {method: 'POST', headers: {
            'Content-Type': 'application/json', 'X-CSRFToken': token},
            body: JSON.stringify({operations})});
        return response.status;
    }"""
    url = f"/groups/uk/sell/{event.id}/sync"
    for _ in range(3):
        assert page.evaluate(send, [url, batch]) == 200
    second = context.new_page()
    second.goto(f"/groups/uk/sell/{event.id}")
    statuses = page.evaluate(
        """async ([url, operations]) => {
            const token = (await (await fetch('/sale/csrf-token')).json()).csrf_token;
            const post = () => fetch(url, {method: 'POST', headers: {
                'Content-Type': 'application/json', 'X-CSRFToken': token},
                body: JSON.stringify({operations})}).then(r => r.status);
            return Promise.all([post(), post()]);
        }""",
        [url, batch],
    )
    assert statuses == [200, 200]
    assert second.evaluate(send, [url, batch]) == 200
    session = fresh(db)
    assert session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 5
    assert session.scalar(sa.select(sa.func.count()).select_from(ClientOperation)) == 5
    assert stock.event_levels(session, event)[stall["journal"].id] == 17


def test_a_lost_session_keeps_the_queue_until_the_member_logs_in(
    db, context, server, member, event, stall
):
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, event)
    server.stop()
    tile(page, "1917").click()
    page.locator("#sync-status").filter(has_text="1 waiting to sync").wait_for()
    server.start()
    context.clear_cookies()  # the session expired meanwhile
    page.get_by_role("button", name="Sync now").click()
    login = page.get_by_role("link", name="Log in to sync")
    login.wait_for()
    assert page.locator("#sync-status").text_content() == "1 waiting to sync"
    assert fresh(db).scalar(sa.select(sa.func.count()).select_from(Sale)) == 0

    login.click()
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/groups/uk/sell/{event.id}")
    page.locator("#sync-status").filter(has_text="All synced").wait_for()
    assert stock.event_levels(fresh(db), event)[stall["book"].id] == 4


def test_logging_out_warns_about_unsynced_sales_and_keeps_them(
    db, context, server, member, event, stall
):
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, event)
    server.stop()
    tile(page, "1917").click()
    page.locator("#sync-status").filter(has_text="1 waiting to sync").wait_for()
    server.start()

    messages = []

    def dismiss(dialog):
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    # Stop the screen from syncing on its own while we log out.
    page.route("**/sync", lambda route: route.abort())
    page.get_by_text("Menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_timeout(300)
    assert messages and "1 sales are still waiting to sync" in messages[0]
    assert f"/sell/{event.id}" in page.url

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out.").wait_for()
    assert len(queued_operations(page)) == 1
    assert page.evaluate("caches.keys()") != []


def test_logging_out_with_nothing_waiting_clears_the_offline_copies(
    context, server, member, event, stall
):
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, event)
    assert page.evaluate("caches.keys()")
    page.get_by_text("Menu").click()
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("You are logged out.").wait_for()
    # The copies of the sale screen are gone; only the stylesheet and scripts may come back.
    assert "stallapp-sale-pages-v1" not in page.evaluate("caches.keys()")
    assert page.evaluate(f"caches.match('/groups/uk/sell/{event.id}')") is None
