"""The sale screen syncs when the phone shows it again, in Chromium at phone width.

A phone put in a pocket with sales waiting has no ``online`` event to wake it when the signal
comes back, and its timers are throttled or frozen while the page is hidden: showing the page
again (``visibilitychange``) is what sends the queue.
"""

import pytest
import sqlalchemy as sa

from stallapp.sales.models import Sale
from stallapp.stock import services as stock
from tests.browser import log_in, open_sale_screen
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

#: Longer than the screen's first wait before it tries again by itself (2 s in sale.js).
QUIET_MS = 3_000

#: Make the screen deaf to ``online`` and cancel the timer that would try again by itself, so
#: that only the page becoming visible can send the queue.
SILENCE_OTHER_TRIGGERS = """() => {
    window.addEventListener('online', event => event.stopImmediatePropagation(), true);
    const last = setTimeout(() => {}, 0);
    for (let id = 0; id <= last; id += 1) clearTimeout(id);
}"""

#: What the browser does when the phone is taken out of a pocket: hidden, then visible again.
HIDE_AND_SHOW = """() => {
    for (const state of ['hidden', 'visible']) {
        Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
        Object.defineProperty(document, 'hidden', {value: state === 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }
}"""


def sales_in_the_books(db) -> int:
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Sale))


def test_a_queued_sale_is_sent_when_the_page_becomes_visible(
    db, context, server, member, event, stall
):
    page = context.new_page()
    log_in(page, member.email, PASSWORD)
    open_sale_screen(page, event)
    status = page.locator("#sync-status")

    server.stop()
    page.locator("form[data-publication-id]", has_text="1917").locator(".tile-button").click()
    # The screen tried at once and failed: it now waits for its timer to try again.
    status.filter(has_text="No connection").wait_for()
    page.wait_for_timeout(200)
    page.evaluate(SILENCE_OTHER_TRIGGERS)
    server.start()

    # The network is back, but nothing else sends the sale.
    page.wait_for_timeout(QUIET_MS)
    assert status.text_content().startswith("1 waiting to sync")
    assert sales_in_the_books(db) == 0

    page.evaluate(HIDE_AND_SHOW)
    status.filter(has_text="All synced").wait_for(timeout=10_000)
    assert sales_in_the_books(db) == 1
    assert stock.event_levels(db.session, event)[stall["book"].id] == 4
    assert page.locator(".recent-line.is-pending").count() == 0
