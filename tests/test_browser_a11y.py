"""Accessibility at phone width: every page a visitor, member, organiser or admin can reach by
following links from the demo data passes axe-core with no violation and has no duplicate id;
the QR table card prints on A6 paper and the poster on A4."""

import re

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe

from stallapp.demo import load_demo_data
from stallapp.qr.models import QrCode
from tests.crawl import crawl, log_in

pytestmark = pytest.mark.browser

#: axe's default rules, plus one it ships switched off: a control's accessible name must start
#: with its visible text (a "Take off" button named "Take Max off" fails speech input).
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}
#: Where each person starts; the crawl follows every link from there. A visitor arrives by the
#: QR codes' pages (the catalogue is linked from no other public page).
STARTS = {
    "visitor": [
        "/events",
        "/g/uk",
        "/g/nyc",
        "/g/montreal",
        "/g/uk/publications",
        "/g/montreal/publications",
        "/login",
        "/forgot-password",
    ],
    "member@example.org": ["/"],
    "organiser@example.org": ["/"],
    "admin@example.org": ["/"],
}
#: Pages each person must reach, so a crawl that stops early cannot pass by seeing little.
MUST_SEE = {
    "visitor": ["/g/uk/join", "/g/uk/contact", "/g/uk/forget"],
    "member@example.org": ["/groups/uk/", "/my-shifts", "/groups/uk/sell"],
    "organiser@example.org": [
        "/groups/uk/qr",
        "/groups/uk/reports",
        "/groups/uk/stock/ledger",
        "/groups/uk/contacts/",
    ],
    "admin@example.org": ["/admin/groups", "/admin/users"],
}


@pytest.fixture
def app_config(app_config):
    """With CSRF on, as in production: every form carries its token (and its markup)."""
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def demo(db):
    load_demo_data(db.session)
    db.session.commit()


def _duplicate_ids(page) -> list[str]:
    return page.evaluate(
        """() => {
            const seen = new Map();
            for (const element of document.querySelectorAll('[id]')) {
                seen.set(element.id, (seen.get(element.id) || 0) + 1);
            }
            return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
        }"""
    )


@pytest.mark.parametrize("person", list(STARTS))
def test_every_reachable_page_passes_axe(phone, demo, person):
    if person != "visitor":
        log_in(phone, person)
    axe = Axe()
    problems: dict[str, list[str]] = {}
    seen = []
    for path in crawl(phone, STARTS[person]):
        seen.append(path)
        found = [
            f"{violation['id']}: {[node['target'] for node in violation['nodes']][:3]}"
            for violation in axe.run(phone, options=AXE_OPTIONS).response["violations"]
        ]
        found += [f"duplicate id {name!r}" for name in _duplicate_ids(phone)]
        if found:
            problems[path] = found
    assert problems == {}
    missing = [path for path in MUST_SEE[person] if path not in seen]
    assert missing == []
    if person == "organiser@example.org":
        # Print pages are among them: the QR codes' table cards and posters.
        assert any(re.search(r"/qr/\d+/print/a6$", path) for path in seen)


def _media_box(pdf: bytes) -> tuple[float, float]:
    match = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert match, "no page size in the PDF"
    return float(match.group(1)), float(match.group(2))


def _points(millimetres: float) -> float:
    return millimetres / 25.4 * 72


@pytest.mark.parametrize(("paper", "size_mm"), [("a6", (105, 148)), ("a4", (210, 297))])
def test_the_qr_card_prints_on_its_own_paper_size(phone, demo, db, paper, size_mm):
    code = db.session.scalar(
        sa.select(QrCode).where(QrCode.label.is_not(None)).order_by(QrCode.id).limit(1)
    )
    log_in(phone, "organiser@example.org")
    phone.goto(f"/groups/{code.group.slug}/qr/{code.id}/print/{paper}")
    phone.emulate_media(media="print")
    # The printed size comes from the page's CSS (@page), not from a default paper.
    width, height = _media_box(phone.pdf(prefer_css_page_size=True))
    assert width == pytest.approx(_points(size_mm[0]), abs=1)
    assert height == pytest.approx(_points(size_mm[1]), abs=1)
