"""Bytes that travel once: what a browser downloads for a public page, first and repeat visit.

Counted by Chromium itself (the DevTools protocol's ``Network.loadingFinished``
``encodedDataLength``: headers and body as they came over the wire, compressed), for every
request the page makes. A repeat visit reuses the stylesheets (hashed URLs, cached for a year)
and revalidates or reuses the page.
"""

import pytest

from tests.browser import PHONE
from tests.builders import add_meeting

pytestmark = pytest.mark.browser

FIRST_VISIT_BUDGET = 12 * 1024
REPEAT_VISIT_BUDGET = 4 * 1024


@pytest.fixture
def app_config(app_config):
    # As in production: the forms' cross-site protection on.
    return {**app_config, "WTF_CSRF_ENABLED": True}


class TransferMeter:
    """Adds up the bytes Chromium received for each finished request of one page."""

    def __init__(self, page):
        self.session = page.context.new_cdp_session(page)
        self.session.send("Network.enable")
        self.received: dict[str, float] = {}
        self.urls: dict[str, str] = {}
        self.session.on("Network.requestWillBeSent", self._sent)
        self.session.on("Network.loadingFinished", self._finished)

    def _sent(self, event) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event) -> None:
        self.received[event["requestId"]] = event["encodedDataLength"]

    def reset(self) -> None:
        self.received.clear()

    def total(self) -> int:
        return int(sum(self.received.values()))

    def detail(self) -> dict[str, int]:
        return {self.urls.get(key, key): int(size) for key, size in self.received.items()}


@pytest.fixture
def visitor(browser, live_server):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("which", ["event page", "group page"])
def test_public_pages_fit_the_byte_budgets(visitor, db, make_group, record_property, which):
    group = make_group(slug="uk", name="CWO (UK)")
    event = add_meeting(
        db,
        group,
        title="Capitalism and climate change",
        description="A talk and a discussion. " * 20,
        capacity=40,
    )
    path = f"/e/{event.public_code}" if which == "event page" else "/g/uk"
    meter = TransferMeter(visitor)

    visitor.goto(path, wait_until="networkidle")
    first = meter.total()
    assert visitor.get_by_role("heading", name="Capitalism and climate change").count() or (
        visitor.get_by_role("link", name="Capitalism and climate change").count()
    )
    assert any("/static/css/app.css?v=" in url for url in meter.detail()), meter.detail()
    assert 0 < first <= FIRST_VISIT_BUDGET, meter.detail()
    record_property("first_visit_bytes", first)

    meter.reset()
    visitor.goto(path, wait_until="networkidle")
    repeat = meter.total()
    assert repeat <= REPEAT_VISIT_BUDGET, meter.detail()
    record_property("repeat_visit_bytes", repeat)
    # The stylesheets came from the browser's cache: nothing static travelled again.
    static = {url: size for url, size in meter.detail().items() if "/static/" in url}
    assert static and not any(static.values()), meter.detail()
    assert visitor.context.cookies() == []
