"""Shared pieces for the Playwright browser tests: a live server and a phone-sized browser."""

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from stallapp.urls import trusted_hosts_for

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def require_browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail("Chromium is required (REQUIRE_BROWSER=1) but /usr/bin/chromium is missing")
    pytest.skip("Chromium not installed at /usr/bin/chromium")


def serve_at(app, url: str) -> None:
    """Build the app's links on ``url`` and answer to its host only, as in production."""
    app.config["PUBLIC_BASE_URL"] = url
    app.config["TRUSTED_HOSTS"] = trusted_hosts_for(urlsplit(url).hostname)


class LiveServer:
    """Serves the app on a free loopback port in a background thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        serve_at(app, self.url)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


class RestartableLiveServer:
    """A live server that can be stopped and started again on the same port.

    The offline tests stop it to cut the network: Playwright's ``set_offline`` does not cover
    the requests a service worker makes.
    """

    def __init__(self, app):
        self.app = app
        self.port = 0
        self.server = None
        self.thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        serve_at(self.app, self.url)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> "RestartableLiveServer":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.stop()


def log_in(page, email: str, password: str) -> None:
    """Log in through the real form and wait for the dashboard."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def open_sale_screen(page, event) -> None:
    """Open an event's sale screen and wait until it works offline: the service worker controls
    the page, the page is cached, and nothing waits to sync."""
    page.goto(f"/groups/uk/sell/{event.id}")
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        "caches.match(location.pathname).then(found => !!found)", polling=100, timeout=10_000
    )
    page.locator("#sync-status").filter(has_text="All synced").wait_for()


def queue_entries(page) -> list[dict]:
    """Return what the sale screen's IndexedDB queue holds on this phone, oldest first."""
    return page.evaluate(
        """() => new Promise(resolve => {
            const open = indexedDB.open('stallapp-sales', 1);
            open.onsuccess = () => {
                const request = open.result.transaction('queue').objectStore('queue').getAll();
                request.onsuccess = () => {
                    open.result.close();
                    resolve(request.result);
                };
            };
        })"""
    )
