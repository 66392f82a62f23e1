"""Headers, cookies, redirects after login, CSRF and rate limits."""

from html.parser import HTMLParser

import pytest

from stallapp import create_app
from stallapp.security import is_safe_next
from tests.conftest import PASSWORD
from tests.route_world import client_as, pages_of


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,hi",
        "/\t/evil.example",
        "evil.example",
        "",
        None,
    ],
)
def test_unsafe_next_targets_are_refused(target):
    assert not is_safe_next(target)


@pytest.mark.parametrize("target", ["/", "/groups/uk/", "/account?tab=password"])
def test_relative_paths_are_accepted(target):
    assert is_safe_next(target)


def test_login_ignores_an_offsite_next(client, make_user):
    user = make_user()
    response = client.post(
        "/login?next=//evil.example/steal", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_login_follows_a_local_next(client, make_user):
    user = make_user()
    response = client.post("/login?next=/account", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/account"


def test_html_responses_carry_the_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert part in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_logged_in_pages_are_not_stored(client, make_user, login_as):
    login_as(make_user())
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/account").headers["Cache-Control"] == "no-store"


class InlineCode(HTMLParser):
    """Collect what a strict CSP would block: inline scripts (data blocks such as JSON-LD are
    not run, so they are allowed), style elements and attributes, event handler attributes."""

    def __init__(self):
        super().__init__()
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/ld+json":
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        self.inline += [
            f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")
        ]


def test_no_page_has_inline_script_or_style(app, world, make_user):
    """The CSP forbids inline script and style; a page that had some would break in browsers.
    Every GET page is opened by the least one who may see it, and its HTML checked."""
    visitors = {
        "public": app.test_client(),
        "organiser": client_as(app, world["organiser"]),
        "admin": client_as(app, make_user(is_admin=True)),
    }
    checked = []
    for who, url in pages_of(app, world):
        response = visitors[who].get(url)
        if response.mimetype != "text/html":
            continue
        found = InlineCode()
        found.feed(response.get_data(as_text=True))
        assert found.inline == [], f"inline script or style on {url}"
        checked.append(url)
    assert len(checked) > 60, "the walk reached too few pages"


def test_hsts_over_https(client):
    response = client.get("/login", base_url="https://stall.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_flags(client, make_user, login_as):
    response = login_as(make_user())
    cookie = [
        value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")
    ]
    assert cookie and "HttpOnly" in cookie[0] and "SameSite=Lax" in cookie[0]
    assert "Secure" not in cookie[0]


def test_cookies_are_secure_when_the_public_url_is_https(app_config, make_user):
    app = create_app({**app_config, "PUBLIC_BASE_URL": "https://stall.example.org"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_logout_is_post_only(client, make_user, login_as):
    login_as(make_user())
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_friendly_500(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)


def test_proxy_fix_is_off_unless_configured(app_config):
    plain = create_app(app_config)
    proxied = create_app({**app_config, "PROXY_FIX_HOPS": 1})
    headers = {"X-Forwarded-Proto": "https"}
    assert (
        "Strict-Transport-Security"
        not in plain.test_client().get("/login", headers=headers).headers
    )
    assert (
        "Strict-Transport-Security" in proxied.test_client().get("/login", headers=headers).headers
    )


class TestCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_post_without_token_is_refused_and_changes_nothing(self, client, make_user):
        user = make_user()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 400
        assert "The form may have expired" in response.get_data(as_text=True)

    def test_every_post_route_needs_the_token(self, app, make_user):
        admin = make_user(is_admin=True)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post(
            "/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.arguments - {"user_id"}:
                continue
            url = rule.rule.replace("<int:user_id>", str(admin.id))
            assert client.post(url, data={}).status_code == 400, url

    #: Public forms: a reader gets no cookie, so they are protected by where the POST comes
    #: from (``Sec-Fetch-Site``, else ``Origin``, else ``Referer``) instead of by a token.
    OWN_SITE = [
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://stall.test"},
        {"Referer": "http://stall.test/e/somewhere"},
    ]
    OTHER_SITES = [
        {},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://stall.test"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://stall.test.evil.example"},
        {"Referer": "https://evil.example/stall.test"},
    ]

    @pytest.fixture
    def meeting(self, db, make_group):
        from tests.builders import add_meeting

        return add_meeting(db, make_group(slug="uk"), capacity=10)

    def _registrations(self, db, meeting) -> int:
        import sqlalchemy as sa

        from stallapp.events.models import Registration

        return db.session.scalar(
            sa.select(sa.func.count()).where(Registration.event_id == meeting.id)
        )

    def test_a_reader_of_a_public_page_gets_no_cookie_and_no_token(self, client, meeting):
        for url in (f"/e/{meeting.public_code}", "/g/uk", "/g/uk/join", "/g/uk/contact"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert "Set-Cookie" not in response.headers, url
            assert "csrf_token" not in response.get_data(as_text=True), url
        event_page = client.get(f"/e/{meeting.public_code}")
        assert event_page.headers["Cache-Control"] == "public, no-cache"
        assert 'name="email"' in event_page.get_data(as_text=True), "the form is there"

    @pytest.mark.parametrize("headers", OTHER_SITES)
    def test_a_public_form_posted_from_elsewhere_is_refused(self, client, db, meeting, headers):
        form = {"name": "Rosa", "email": "rosa@example.org", "consent": "y", "website": ""}
        response = client.post(f"/e/{meeting.public_code}", data=form, headers=headers)
        assert response.status_code == 400
        assert "The form may have expired" in response.get_data(as_text=True)
        assert self._registrations(db, meeting) == 0

    @pytest.mark.parametrize("headers", OWN_SITE)
    def test_a_public_form_posted_from_our_page_is_accepted(self, client, db, meeting, headers):
        form = {"name": "Rosa", "email": "rosa@example.org", "consent": "y", "website": ""}
        response = client.post(f"/e/{meeting.public_code}", data=form, headers=headers)
        assert response.status_code == 200
        assert "You are registered" in response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers
        assert self._registrations(db, meeting) == 1

    def test_every_public_post_route_refuses_other_sites(self, app, client, meeting):
        from flask import url_for

        from stallapp.permissions import PUBLIC_ENDPOINTS

        arguments = {
            "group_slug": "uk",
            "event_code": meeting.public_code,
            "token": "no-such-token",
            "code": "no-such-code",
        }
        #: RFC 8058: a mail program's one-click button posts from no page at all.
        token_is_the_proof = {"public_contacts.unsubscribe_one_click"}
        checked = 0
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.endpoint not in PUBLIC_ENDPOINTS:
                continue
            if rule.endpoint in token_is_the_proof:
                continue
            with app.test_request_context():
                url = url_for(rule.endpoint, **{name: arguments[name] for name in rule.arguments})
            for headers in ({}, {"Origin": "https://evil.example"}):
                assert client.post(url, data={}, headers=headers).status_code == 400, url
            checked += 1
        assert checked >= 8


class TestRateLimits:
    def test_failed_logins_are_limited_per_account_and_address(self, client, make_user):
        user = make_user()
        for _ in range(5):
            client.post("/login", data={"email": user.email, "password": "wrong password"})
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 429
        assert "Too many attempts" in response.get_data(as_text=True)
        # Another account from the same address is not locked out by it.
        other = make_user()
        assert (
            client.post("/login", data={"email": other.email, "password": PASSWORD}).status_code
            == 302
        )

    def test_successful_logins_do_not_count(self, app, make_user):
        user = make_user()
        for _ in range(8):
            client = app.test_client()
            assert (
                client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
                == 302
            )

    def test_per_address_limit_is_looser(self, app, client, make_user):
        app.config["LOGIN_LIMIT_PER_ADDRESS"] = "8 per minute"
        for number in range(8):
            response = client.post(
                "/login", data={"email": f"guess{number}@example.org", "password": "wrong"}
            )
            assert response.status_code == 200
        response = client.post("/login", data={"email": "guess99@example.org", "password": "x"})
        assert response.status_code == 429

    def test_limits_expire(self, app, client, make_user, monkeypatch):
        import time

        user = make_user()
        now = time.time()
        for _ in range(5):
            client.post("/login", data={"email": user.email, "password": "wrong password"})
        assert (
            client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 429
        )
        monkeypatch.setattr(time, "time", lambda: now + 3601)
        assert (
            client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code
            == 302
        )
