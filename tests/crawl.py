"""Walk the pages a person can reach by following links, for the accessibility sweep and the
guide: log in as someone, then visit every same-site page linked from the pages already seen."""

import re
from collections.abc import Iterator
from urllib.parse import urldefrag, urlsplit

from playwright.sync_api import Page

from stallapp.demo import DEMO_PASSWORD

#: Links a visit must not follow: they change something (a scan counts, a logout ends the
#: session), or they download a file rather than show a page.
SKIPPED = re.compile(
    r"(/q/|/logout|\.csv(\?|$)|\.ics(\?|$)|\.svg(\?|$)|\.png(\?|$)|\.ico$|\.webmanifest$"
    r"|/calendar/|/sale-sw\.js|/sale/csrf-token|/healthz|/u/|/forget/|/join/confirm/)"
)
#: Pages that are the same page for another row (another event, another title) are visited a
#: few times, not once per row: what differs between them is data, not markup.
PER_SHAPE = 2


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form, as a person would."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def shape_of(path: str) -> str:
    """Return the path with its ids and codes replaced: "/groups/uk/events/{n}"."""
    path = re.sub(r"/\d+", "/{n}", path)
    return re.sub(r"/(e|g)/[^/]+", r"/\1/{code}", path)


def crawl(page: Page, start: list[str], *, limit: int = 200) -> Iterator[str]:
    """Visit ``start`` and every page linked from what was visited; yield each path once the
    page has loaded (the caller checks it there and then)."""
    queue = list(start)
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        shape = shape_of(urlsplit(path).path)
        if path in seen or shapes.get(shape, 0) >= PER_SHAPE:
            continue
        seen.add(path)
        shapes[shape] = shapes.get(shape, 0) + 1
        response = page.goto(path)
        if (
            response is None
            or response.status >= 400
            or not response.headers.get("content-type", "").startswith("text/html")
        ):
            continue
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        yield path
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            url, _fragment = urldefrag(href)
            if not url.startswith(origin):
                continue
            link = url[len(origin) :] or "/"
            if SKIPPED.search(link) or link in seen:
                continue
            queue.append(link)
