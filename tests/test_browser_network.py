"""The network page, the embeds and the link-preview data in Chromium at phone width, on the
demo's four groups: readable at 390 px, no CSP violation from the JSON-LD block, and an embed
shown in a frame only on the sites its group lists."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sqlalchemy as sa

from stallapp.accounts.models import Group
from stallapp.demo import load_demo_data
from stallapp.events.models import Event
from stallapp.network import services

pytestmark = pytest.mark.browser

#: Reports every CSP violation the page causes, before any of its own code runs.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(event.violatedDirective + ' ' + event.blockedURI);
});
"""


@pytest.fixture
def demo(db):
    load_demo_data(db.session)
    db.session.commit()


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _violations(page) -> list[str]:
    return page.evaluate("window.__violations")


def test_the_network_page_shows_the_four_groups_on_a_phone(phone, demo):
    phone.add_init_script(RECORD_VIOLATIONS)
    phone.goto("/events?by=group")
    headings = phone.locator("main h2").all_inner_texts()
    for group in ("CWO (UK)", "IWG New York", "Klasbatalo Montréal", "PCInt – Battaglia Comunista"):
        assert group in headings
    italian = phone.locator('li[lang="it"]').first
    assert "Volantinaggio" in italian.inner_text()
    assert _fits_the_screen(phone)
    phone.get_by_label("Kind").select_option("online")
    phone.get_by_role("button", name="Show").click()
    assert phone.get_by_text("IWG online meeting: state capitalism in the USSR").is_visible()
    assert phone.get_by_text("Online — the link is sent to people who register").is_visible()
    assert phone.get_by_text("Peterborough Radical Bookfair").count() == 0
    phone.goto("/publications")
    assert phone.get_by_role("heading", name="PCInt – Battaglia Comunista").is_visible()
    assert _fits_the_screen(phone)
    assert _violations(phone) == []


def test_json_ld_causes_no_csp_violation(phone, demo, db):
    messages = []
    phone.on("console", lambda message: messages.append(message.text))
    phone.add_init_script(RECORD_VIOLATIONS)
    code = db.session.scalar(
        sa.select(Event.public_code).where(Event.title.like("IWG online meeting%"))
    )
    for path in (f"/e/{code}", "/g/italia"):
        phone.goto(path)
        assert phone.locator('script[type="application/ld+json"]').count() == 1
        assert _fits_the_screen(phone)
        assert _violations(phone) == [], path
    assert not [text for text in messages if "Content Security Policy" in text]


class GroupSite:
    """Another web site on this machine (its own port: another origin) whose page frames a URL.

    A real server, not a Playwright route: Chromium refuses to let a page without an address
    frame a loopback one (local network access checks).
    """

    def __init__(self, framed_url: str):
        body = f'<!doctype html><title>Our site</title><iframe src="{framed_url}"></iframe>'

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "GroupSite":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _framed(phone, site: GroupSite):
    phone.goto(f"{site.url}/")
    frame = phone.locator("iframe").element_handle().content_frame()
    frame.wait_for_load_state()
    return frame


def test_an_embed_shows_only_in_a_listed_site(phone, demo, db, live_server):
    nyc = db.session.scalar(sa.select(Group).where(Group.slug == "nyc"))
    with GroupSite(f"{live_server.url}/g/nyc/embed/events") as site:
        services.save_public_page_settings(
            db.session, nyc, listed_on_network=True, embed_origins=site.url
        )
        db.session.commit()
        listed = _framed(phone, site).get_by_text("IWG monthly meeting").first
        listed.wait_for()
        assert listed.is_visible()

    with GroupSite(f"{live_server.url}/g/nyc/embed/events?style=light") as elsewhere:
        frame = _framed(phone, elsewhere)
        assert "IWG monthly meeting" not in frame.content(), "refused by frame-ancestors"
