"""The user guide stays true: its pictures are taken here, from the demo data at phone width,
and every page address it names must still exist.

``make guide`` runs this file with UPDATE_GUIDE=1, which writes the pictures into
docs/guide/images; otherwise they go to a temporary folder, so the suite checks that every
screen of the guide still opens with the heading the guide shows without touching the repo.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import MethodNotAllowed, NotFound

from stallapp.accounts.models import Group
from stallapp.database import utcnow
from stallapp.demo import DEMO_SERIES_TITLE, load_demo_data
from stallapp.events.models import Event
from stallapp.qr.demo import DEMO_LABEL
from stallapp.qr.models import QrCode
from tests.browser import PHONE
from tests.crawl import log_in

#: The guide is drawn from the demo on SQLite, like the browser journeys.
pytestmark = pytest.mark.backends("sqlite")

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide"
IMAGES = GUIDE / "images"
#: What the guide's placeholders stand for when its addresses are checked against the routes.
PLACEHOLDERS = {"group": "uk", "code": "AbCd1234", "token": "token"}


@dataclass(frozen=True)
class Shot:
    """One picture of the guide: who looks, at which page, and the heading it must show."""

    name: str
    person: str | None
    path: str
    heading: str


def _shots(db) -> list[Shot]:
    def event(title: str) -> Event:
        return db.session.scalar(sa.select(Event).where(Event.title == title).limit(1))

    stall = event("Peterborough Radical Bookfair").id
    past = event("Sheffield Radical Bookfair").id
    meeting = db.session.scalar(
        sa.select(Event)
        .where(Event.title == DEMO_SERIES_TITLE, Event.starts_at > utcnow())
        .order_by(Event.starts_at)
        .limit(1)
    ) or event(DEMO_SERIES_TITLE)
    code = db.session.scalar(
        sa.select(QrCode.id).join(Group).where(Group.slug == "uk").order_by(QrCode.id).limit(1)
    )
    member, organiser, admin = (
        "member@example.org",
        "organiser@example.org",
        "admin@example.org",
    )
    title = "Peterborough Radical Bookfair"
    return [
        Shot("member-home", member, "/groups/uk/", "CWO (UK)"),
        Shot("member-my-shifts", member, "/my-shifts", "My shifts"),
        Shot("member-event", member, f"/groups/uk/events/{stall}", title),
        Shot("member-sale-screen", member, f"/groups/uk/sell/{stall}", title),
        Shot("organiser-home", organiser, "/groups/uk/", "CWO (UK)"),
        Shot("organiser-new-event", organiser, "/groups/uk/events/new", "New event"),
        Shot("organiser-event", organiser, f"/groups/uk/events/{stall}", title),
        Shot("organiser-rota", organiser, f"/groups/uk/rota/events/{stall}", f"Rota: {title}"),
        Shot("organiser-pack", organiser, f"/groups/uk/stock/events/{stall}/pack", "Pack"),
        Shot("organiser-qr", organiser, f"/groups/uk/qr/{code}", DEMO_LABEL),
        Shot("organiser-close-out", organiser, f"/groups/uk/events/{past}/close-out", "Close out"),
        Shot("organiser-report", organiser, f"/groups/uk/reports/events/{past}", "Sheffield"),
        Shot("organiser-group-report", organiser, "/groups/uk/reports", "Reports"),
        Shot("admin-groups", admin, "/admin/groups", "Groups"),
        Shot("admin-accounts", admin, "/admin/users", "Accounts"),
        Shot("public-group", None, "/g/nyc", "IWG New York"),
        Shot("public-event", None, f"/e/{meeting.public_code}", DEMO_SERIES_TITLE),
        Shot("public-join", None, "/g/uk/join", "Join the mailing list"),
    ]


@pytest.mark.browser
def test_the_guide_pictures_are_taken_from_the_demo(browser, live_server, db, tmp_path):
    load_demo_data(db.session)
    db.session.commit()
    folder = IMAGES if os.environ.get("UPDATE_GUIDE") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    shots = _shots(db)
    people = {shot.person for shot in shots}
    for person in sorted(people, key=str):
        context = browser.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True)
        page = context.new_page()
        if person is not None:
            log_in(page, person)
        for shot in (shot for shot in shots if shot.person == person):
            response = page.goto(shot.path)
            assert response.status == 200, shot.path
            heading = page.get_by_role("heading", level=1)
            assert shot.heading in heading.first.inner_text(), shot.name
            page.screenshot(path=str(folder / f"{shot.name}.png"))
        context.close()


def _guide_pages() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(GUIDE.glob("*.md"))}


def test_every_page_the_guide_names_still_exists(app, db):
    adapter = app.url_map.bind("stall.test")
    named = []
    for name, text in _guide_pages().items():
        for path in re.findall(r"`(/[^`\s]*)`", text):
            concrete = re.sub(r"<(\w+)>", lambda match: PLACEHOLDERS.get(match.group(1), "1"), path)
            try:
                adapter.match(concrete.split("?")[0], method="GET")
            except (NotFound, MethodNotAllowed):
                named.append(f"{name}: {path}")
    assert named == []


def test_every_picture_the_guide_shows_is_one_the_tests_take(db):
    load_demo_data(db.session)
    db.session.commit()
    taken = {f"{shot.name}.png" for shot in _shots(db)}
    shown = {
        picture
        for text in _guide_pages().values()
        for picture in re.findall(r"\(images/([\w-]+\.png)\)", text)
    }
    assert shown, "the guide shows no pictures"
    assert shown <= taken
    assert all((IMAGES / picture).is_file() for picture in shown)


def test_the_guide_has_a_page_per_role_and_readme_links_to_it():
    pages = _guide_pages()
    assert {"member.md", "organiser.md", "admin.md", "public.md", "README.md"} <= set(pages)
    readme = (GUIDE.parent.parent / "README.md").read_text()
    assert "docs/guide/" in readme
