"""Shared pieces for the Playwright browser tests: a live server and a phone-sized browser."""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def require_browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail("Chromium is required (REQUIRE_BROWSER=1) but /usr/bin/chromium is missing")
    pytest.skip("Chromium not installed at /usr/bin/chromium")


class LiveServer:
    """Serves the app on a free loopback port in a background thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
