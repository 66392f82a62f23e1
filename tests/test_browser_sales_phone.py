"""The stall phone in Chromium at 390×844: installable, instant taps, and a queue that never jams.

The live server is stopped where the network must really be gone (Playwright's ``set_offline``
does not cover a service worker's requests) and ``set_offline`` is used where the page must see
the browser go offline and come back (the ``online`` event).
"""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from stallapp.reports import closeout, event_report
from stallapp.sales.models import LateSale, LateSaleStatus, Sale, SaleKind, SaleLine
from stallapp.stock import services as stock
from tests.browser import CHROMIUM, LAUNCH_ARGS, PHONE, open_sale_screen, queue_entries
from tests.browser import log_in as browser_log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, user):
    browser_log_in(page, user.email, PASSWORD)


def tile(page, title):
    return page.locator("form[data-publication-id]", has_text=title).locator(".tile-button")


def fresh(db):
    db.session.commit()
    return db.session


def count(db, model, *where) -> int:
    return fresh(db).scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def status(page):
    return page.locator("#sync-status")


def close_out(db, event, organiser, store, stall, **back):
    """Close the event out as an organiser would, counting ``back`` copies per title."""
    counts = {stall[key].id: back.get(key, 0) for key in ("journal", "aurora", "book")}
    closeout.close_out(
        fresh(db),
        event,
        organiser,
        store,
        counts,
        [closeout.CashEntry("GBP", 0, 2000, "£20 for the sales still on the phone")],
    )
    db.session.commit()


def test_the_sale_screen_is_installable(browser, server, tmp_path, member, event, stall):
    # A profile on disk: Chromium never offers to install from an incognito context, which is
    # what ``browser.new_context`` makes.
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile",
        executable_path=str(CHROMIUM),
        headless=True,
        args=LAUNCH_ARGS,
        viewport=PHONE,
        is_mobile=True,
        base_url=server.url,
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        log_in(page, member)
        open_sale_screen(page, event)
        session = context.new_cdp_session(page)
        errors = session.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == []
        manifest = session.send("Page.getAppManifest")
        assert manifest["url"].endswith("/manifest.webmanifest")
        assert manifest["errors"] == []
        # The queue is asked to be kept, and how much waits and since when is on the screen.
        assert page.evaluate("navigator.storage.persisted()") in (True, False)
        context.set_offline(True)
        tile(page, "Aurora").click()
        status(page).filter(has_text="1 waiting to sync").wait_for()
        assert page.locator("#sync-since").text_content().startswith("since ")
        context.set_offline(False)
        status(page).filter(has_text="All synced").wait_for()
        assert page.locator("#sync-since").is_hidden()
    finally:
        context.close()


#: Measures, in the page, how long a tap takes to show: from the click event's time stamp to
#: the moment the new line is in "Last sales" (a MutationObserver), and to the next frame.
MEASURE_TAPS = """() => {
    window.tapTimes = [];
    let tappedAt = null;
    document.addEventListener("click", event => {
        if (event.target.closest(".tile-button")) tappedAt = event.timeStamp;
    }, true);
    new MutationObserver(() => {
        if (tappedAt === null) return;
        const start = tappedAt;
        tappedAt = null;
        const shown = performance.now() - start;
        requestAnimationFrame(() => window.tapTimes.push(
            {shown, painted: performance.now() - start}));
    }).observe(document.getElementById("recent"), {childList: true});
}"""


def test_a_tap_shows_the_sale_within_100_ms_online_and_offline(db, context, member, event, stall):
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, event)
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.evaluate(MEASURE_TAPS)
    for offline in (False, True):
        context.set_offline(offline)
        for _ in range(5):
            tile(page, "Revolutionary Perspectives").click()
            page.wait_for_timeout(150)
    context.set_offline(False)
    status(page).filter(has_text="All synced").wait_for(timeout=20_000)
    times = page.evaluate("window.tapTimes.map(t => t.shown)")
    assert len(times) == 10
    assert max(times) < 100, times
    assert stock.event_levels(fresh(db), event)[stall["journal"].id] == 10


def test_a_closed_events_sale_does_not_block_another_events_sales(
    db, context, server, member, organiser, store, event, stall, make_event
):
    other = make_event(event.group, title="Leeds Anarchist Bookfair")
    stock.pack_for_event(fresh(db), store, other, {stall["book"]: 5}, organiser)
    db.session.commit()
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, other)
    open_sale_screen(page, event)

    # The organiser closes the first event out while this phone still shows its live screen.
    close_out(db, event, organiser, store, stall, journal=20, aurora=30, book=5)
    server.stop()
    tile(page, "Aurora").click()  # taken after the close-out: the server will refuse it
    status(page).filter(has_text="1 waiting to sync").wait_for()
    page.goto(f"/groups/uk/sell/{other.id}")  # from the service worker: no network
    tile(page, "1917").click()
    tile(page, "1917").click()
    status(page).filter(has_text="2 waiting to sync").wait_for()
    server.start()
    page.get_by_role("button", name="Sync now").click()
    status(page).filter(has_text="All synced").wait_for()
    session = fresh(db)
    assert stock.event_levels(session, other)[stall["book"].id] == 3
    assert count(db, Sale, Sale.event_id == event.id) == 0

    page.goto(f"/groups/uk/sell/{event.id}")
    assert page.locator(".tile-button").count() == 0
    assert page.get_by_role("button", name="Undo").count() == 0
    assert page.get_by_text("Record the donation").count() == 0
    expect(page.locator(".closed-banner")).to_contain_text("Closed out")
    refused = page.locator("#not-recorded")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("1 × Aurora")
    expect(refused).to_contain_text("before this was taken")
    refused.get_by_role("button", name="Written down: remove").click()
    expect(refused).to_be_hidden()


def test_an_impossible_donation_does_not_block_valid_sales(
    db, context, server, member, event, stall
):
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, event)
    server.stop()
    tile(page, "Revolutionary Perspectives").click()
    page.get_by_text("Donation", exact=True).first.click()
    page.get_by_label("Amount", exact=True).fill("1e999999")
    page.get_by_role("button", name="Record the donation").click()
    tile(page, "1917").click()
    status(page).filter(has_text="3 waiting to sync").wait_for()
    server.start()
    page.get_by_role("button", name="Sync now").click()
    status(page).filter(has_text="All synced").wait_for()
    assert count(db, Sale, Sale.kind == SaleKind.SALE) == 2
    assert count(db, Sale, Sale.kind == SaleKind.DONATION) == 0
    refused = page.locator("#not-recorded")
    expect(refused).to_contain_text("Donation 1e999999")
    expect(refused.locator(".refused-reason")).to_have_count(1)


def test_waiting_sales_sync_by_themselves_when_the_network_comes_back(
    db, context, member, event, stall
):
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, event)
    context.set_offline(True)
    tile(page, "Revolutionary Perspectives").click()
    tile(page, "1917").click()
    status(page).filter(has_text="2 waiting to sync").wait_for()
    expect(status(page)).to_contain_text("No connection")
    assert count(db, Sale) == 0
    context.set_offline(False)  # nobody taps "Sync now"
    status(page).filter(has_text="All synced").wait_for()
    assert count(db, Sale) == 2


def test_waiting_sales_are_retried_on_a_timer_when_the_server_comes_back(
    db, context, server, member, event, stall
):
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, event)
    server.stop()  # the phone still has a network: no "online" event will come
    tile(page, "Aurora").click()
    status(page).filter(has_text="No connection").wait_for()
    server.start()
    status(page).filter(has_text="All synced").wait_for(timeout=20_000)
    assert count(db, Sale) == 1


def test_sales_taken_offline_before_the_close_out_are_held_then_accepted(
    db, browser, context, server, member, organiser, store, event, stall
):
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, event)
    server.stop()
    tile(page, "Revolutionary Perspectives").click()
    tile(page, "Revolutionary Perspectives").click()
    tile(page, "1917").click()
    status(page).filter(has_text="3 waiting to sync").wait_for()
    # Meanwhile the organiser counts what came back and the cash (£20 for the three sales).
    close_out(db, event, organiser, store, stall, journal=18, aurora=30, book=4)
    server.start()
    page.get_by_role("button", name="Sync now").click()
    # Told the event is closed, the screen turns read-only by itself: no more taps to refuse.
    expect(page.get_by_text("3 sales from phones are held for an organiser.")).to_be_visible()
    expect(page.locator("form[data-publication-id]")).to_have_count(0)
    status(page).filter(has_text="All synced").wait_for()
    assert count(db, LateSale, LateSale.status == LateSaleStatus.HELD) == 3
    assert count(db, Sale) == 0

    office = browser.new_context(viewport=PHONE, base_url=server.url, is_mobile=True)
    desk = office.new_page()
    log_in(desk, organiser)
    desk.goto(f"/groups/uk/reports/events/{event.id}")
    expect(desk.locator("#late-sales")).to_contain_text("3 sales arrived after close-out")
    desk.get_by_role("button", name="Accept all 3").click()
    desk.get_by_text("3 late sales are in the books.").wait_for()
    office.close()

    report = event_report.event_report(fresh(db), event)
    sold_lines = db.session.scalar(
        sa.select(sa.func.sum(SaleLine.quantity)).join(Sale).where(Sale.event_id == event.id)
    )
    assert report.totals["sold"] == sold_lines == 3
    assert report.totals["unaccounted"] == 0
    assert all(title.left == 0 for title in report.titles)
    assert set(stock.event_levels(db.session, event).values()) == {0}
    [cash] = report.cash
    assert (cash.taken, cash.counted, cash.difference) == (2000, 2000, 0)


def queued_ids(page) -> list[str]:
    return [entry["id"] for entry in queue_entries(page)]


def test_an_operation_the_server_keeps_failing_on_is_found_and_set_aside(
    db, context, member, event, stall
):
    page = context.new_page()
    log_in(page, member)
    open_sale_screen(page, event)
    context.set_offline(True)
    for title in ("Revolutionary Perspectives", "1917", "Aurora"):
        tile(page, title).click()
    status(page).filter(has_text="3 waiting to sync").wait_for()
    bad = queued_ids(page)[1]  # the copy of 1917

    def fail_on_the_bad_one(route):
        if bad in (route.request.post_data or ""):
            route.fulfill(status=500, content_type="application/json", body='{"error": "boom"}')
        else:
            route.continue_()

    page.route("**/sync", fail_on_the_bad_one)
    context.set_offline(False)
    refused = page.locator("#not-recorded")
    expect(refused).to_contain_text("1 × 1917", timeout=30_000)
    expect(refused).to_contain_text("The server failed on this one")
    status(page).filter(has_text="All synced").wait_for()
    assert count(db, Sale) == 2
    assert stock.event_levels(fresh(db), event)[stall["book"].id] == 5

    page.unroute("**/sync")
    refused.get_by_role("button", name="Try again").click()
    expect(refused).to_be_hidden()
    page.get_by_text("Sold 1 × 1917 for £12.00").wait_for()
    assert stock.event_levels(fresh(db), event)[stall["book"].id] == 4
