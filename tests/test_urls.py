"""Every link that leaves the request is built on PUBLIC_BASE_URL, whatever Host was asked for."""

import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import has_request_context, request
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from stallapp import create_app
from stallapp.accounts.models import PasswordReset
from stallapp.config import from_environment
from stallapp.contacts import services as contacts
from stallapp.contacts.models import Contact
from stallapp.database import utcnow
from stallapp.qr import services as qr
from stallapp.qr.models import QrCode
from stallapp.rota import shifts as rota
from stallapp.rota.models import Assignment, ShiftRole
from stallapp.urls import DEVELOPMENT_BASE_URL, absolute_url
from tests.builders import add_event, add_meeting, event_row
from tests.conftest import FreshContextClient, base_test_config, link_in, path_of
from tests.qr_reader import decode_png

PUBLIC = "http://stalls.example.org"
PUBLIC_HOST = "stalls.example.org"
#: What an attacker puts in ``Host`` and in ``X-Forwarded-Host``.
FOREIGN_HOST = "evil.example"
FORWARDED_HOST = "forwarded.example"
#: Every ``scheme://host`` in a text.
URL_HOST = re.compile(r"[a-z][a-z0-9+.-]*://([^/\s\"'<>\\]+)", re.IGNORECASE)
PACKAGE = Path(__file__).resolve().parent.parent / "stallapp"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def hosts_in(text: str) -> set[str]:
    # Calendar files fold long lines (RFC 5545): a URL may continue after "\r\n ".
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "")
    return set(URL_HOST.findall(unfolded))


def assert_only_public_links(text: str) -> None:
    """Links in ``text`` lead to PUBLIC_BASE_URL's host only, and there is at least one."""
    hosts = hosts_in(text)
    assert hosts == {PUBLIC_HOST}, text
    for other in (FOREIGN_HOST, FORWARDED_HOST, "stall.test"):
        assert other not in text, text


def assert_mail_links_public(mail, count: int | None = None) -> None:
    assert mail, "no email was sent"
    if count is not None:
        assert len(mail) == count, [message.subject for message in mail]
    for message in mail:
        assert_only_public_links(message.body)


class ForeignHostClient(FreshContextClient):
    """A test client whose every request names a foreign Host and X-Forwarded-Host."""

    def open(self, *args, **kwargs):
        prepared = len(args) == 1 and isinstance(args[0], EnvironBuilder | dict | Request)
        if not prepared:
            headers = Headers(kwargs.pop("headers", None) or {})
            headers.setdefault("Host", FOREIGN_HOST)
            headers.setdefault("X-Forwarded-Host", FORWARDED_HOST)
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


# absolute_url -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://example.org", "https://example.org/reset-password/abc"),
        ("https://example.org/", "https://example.org/reset-password/abc"),
        ("https://example.org/stallapp", "https://example.org/stallapp/reset-password/abc"),
        ("https://example.org/stallapp/", "https://example.org/stallapp/reset-password/abc"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000/reset-password/abc"),
        (
            "https://Stalls.Example.org:8443/a/b/",
            "https://stalls.example.org:8443/a/b/reset-password/abc",
        ),
    ],
)
def test_absolute_url_outside_a_request_uses_scheme_host_and_prefix_of_the_base(
    app, base, expected
):
    app.config["PUBLIC_BASE_URL"] = base
    assert not has_request_context()
    assert absolute_url("accounts.reset_password", token="abc") == expected


def test_absolute_url_takes_query_values_and_an_anchor(app):
    app.config["PUBLIC_BASE_URL"] = "https://example.org/stallapp/"
    assert (
        absolute_url("rota.my_shifts", page=2, _anchor="unavailable")
        == "https://example.org/stallapp/my-shifts?page=2#unavailable"
    )
    assert absolute_url("qr.scan", code="a b/c") == "https://example.org/stallapp/q/a%20b/c"


def test_absolute_url_in_a_request_ignores_its_host_and_prefix(app):
    app.config["PUBLIC_BASE_URL"] = "https://example.org/stallapp"
    app.config["TRUSTED_HOSTS"] = [FOREIGN_HOST]
    with app.test_request_context(
        "/",
        base_url="http://evil.example:8080/elsewhere",
        headers={"X-Forwarded-Host": "x.example"},
    ):
        assert request.host == "evil.example:8080"
        assert absolute_url("qr.scan", code="abc") == "https://example.org/stallapp/q/abc"


def test_no_module_builds_links_from_the_request():
    """Only stallapp/urls.py may build absolute links; nothing asks the request for its host."""
    forbidden = ("_external", "host_url", "url_root", "test_request_context")
    offenders = []
    sources = [*PACKAGE.rglob("*.py"), *TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.txt")]
    assert len(sources) > 50
    for path in sources:
        if path == PACKAGE / "urls.py":
            continue
        text = path.read_text()
        offenders += [f"{path.name}: {word}" for word in forbidden if word in text]
    assert offenders == []


# Starting up ------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path) -> dict:
    """A configuration as in production: not testing, not debugging."""
    return {**base_test_config(f"sqlite:///{tmp_path / 'app.sqlite'}"), "TESTING": False}


def test_production_refuses_to_start_without_public_base_url(settings):
    settings.pop("PUBLIC_BASE_URL")
    with pytest.raises(RuntimeError) as refused:
        create_app(settings)
    message = str(refused.value)
    assert "PUBLIC_BASE_URL is not set" in message
    assert "PUBLIC_BASE_URL=https://stalls.example.org" in message
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL is not set"):
        create_app({**settings, "PUBLIC_BASE_URL": "  "})


def test_development_and_tests_may_leave_it_unset(settings):
    settings.pop("PUBLIC_BASE_URL")
    for mode in ({"DEBUG": True}, {"TESTING": True}):
        app = create_app({**settings, **mode})
        assert app.config["PUBLIC_BASE_URL"] == DEVELOPMENT_BASE_URL
        # Links are still never taken from the request; the developer's phone may use any name.
        assert app.config["TRUSTED_HOSTS"] is None
        with app.app_context():
            assert absolute_url("qr.scan", code="abc") == "http://127.0.0.1:5000/q/abc"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("stalls.example.org", "http:// or https://"),
        ("ftp://stalls.example.org", "http:// or https://"),
        ("https://", "no host"),
        ("https:///stallapp", "no host"),
        ("https://stalls.example.org/?next=1", "query"),
        ("https://stalls.example.org/#top", "fragment"),
        ("https://user:secret@stalls.example.org", "user name or password"),
        ("https://stalls.example.org:99999", "port"),
        ("https://stalls.example.org:http", "port"),
        ("https://stalls.example.org/my stall", "spaces"),
    ],
)
def test_an_invalid_public_base_url_is_refused_with_the_reason(settings, value, reason):
    with pytest.raises(RuntimeError) as refused:
        create_app({**settings, "PUBLIC_BASE_URL": value})
    message = str(refused.value)
    assert f"PUBLIC_BASE_URL={value!r} is not valid" in message
    assert reason in message
    assert "https://stalls.example.org" in message


def test_trusted_hosts_follow_the_base_unless_set(settings):
    app = create_app({**settings, "PUBLIC_BASE_URL": " https://Stalls.Example.org/stallapp/ "})
    assert app.config["PUBLIC_BASE_URL"] == "https://Stalls.Example.org/stallapp"
    assert app.config["TRUSTED_HOSTS"] == ["stalls.example.org"]
    app = create_app({**settings, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"})
    assert app.config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]
    app = create_app({**settings, "TRUSTED_HOSTS": ["a.example", ".b.example"]})
    assert app.config["TRUSTED_HOSTS"] == ["a.example", ".b.example"]


def test_trusted_hosts_can_be_given_in_the_environment(monkeypatch):
    monkeypatch.setenv("TRUSTED_HOSTS", " stalls.example.org, .example.net ,")
    assert from_environment()["TRUSTED_HOSTS"] == ["stalls.example.org", ".example.net"]


# Requests for another host ----------------------------------------------------------------------


def test_a_foreign_host_gets_400_and_no_mail(app, client, make_user, make_group, mail, db):
    make_user(email="olive@example.org")
    make_group(slug="uk")
    headers = {"Host": FOREIGN_HOST}
    response = client.post("/forgot-password", data={"email": "olive@example.org"}, headers=headers)
    assert response.status_code == 400
    response = client.post(
        "/g/uk/join",
        data={"name": "Ann", "email": "ann@example.org", "consent": "y"},
        headers=headers,
    )
    assert response.status_code == 400
    assert client.get("/login", headers=headers).status_code == 400
    assert mail == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordReset)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    assert client.get("/login", headers={"Host": "bad host<>"}).status_code == 400
    assert client.get("/login", headers={"Host": f"stall.test.{FOREIGN_HOST}"}).status_code == 400
    # The configured host, with or without a port, is served.
    assert client.get("/login", headers={"Host": "stall.test:80"}).status_code == 200
    assert client.get("/login").status_code == 200


def test_x_forwarded_host_is_ignored_behind_a_proxy(app_config):
    app = create_app({**app_config, "PROXY_FIX_HOPS": 1})

    @app.get("/host-for-test")
    def host_for_test():
        return f"{request.scheme}://{request.host}"

    client = app.test_client()
    headers = {"X-Forwarded-Host": FOREIGN_HOST, "X-Forwarded-Proto": "https"}
    response = client.get("/host-for-test", headers=headers)
    # The proxy's scheme is believed (one hop configured), its host never.
    assert response.get_data(as_text=True) == "https://stall.test"


# Every email, code and feed, asked for with a foreign Host ---------------------------------------


class TestLinksIgnoreTheRequestHost:
    """The foreign names are let through here, to show that the links never use them."""

    @pytest.fixture
    def app_config(self, app_config):
        return {
            **app_config,
            "PUBLIC_BASE_URL": PUBLIC,
            "TRUSTED_HOSTS": ["stall.test", FOREIGN_HOST, FORWARDED_HOST],
            "PROXY_FIX_HOPS": 1,
            "PUBLIC_FORM_LIMIT": "1000 per minute",
        }

    @pytest.fixture
    def client(self, app):
        app.test_client_class = ForeignHostClient
        return app.test_client()

    @pytest.fixture
    def uk(self, make_group):
        return make_group(slug="uk", name="CWO (UK)")

    @pytest.fixture
    def people(self, uk, make_user):
        return {
            "organiser": make_user(
                email="olive@example.org", name="Olive", groups={uk: "organiser"}
            ),
            "max": make_user(email="max@example.org", name="Max", groups={uk: "member"}),
            "ann": make_user(email="ann@example.org", name="Ann", groups={uk: "member"}),
        }

    def test_the_request_really_names_the_foreign_host(self, app, client):
        @app.get("/host-for-test")
        def host_for_test():
            return request.host

        assert client.get("/host-for-test").get_data(as_text=True) == FOREIGN_HOST

    def test_password_reset(self, client, people, mail):
        client.post("/forgot-password", data={"email": "olive@example.org"})
        assert_mail_links_public(mail, count=1)
        assert link_in(mail[0]).startswith(f"{PUBLIC}/reset-password/")

    def test_invitation_by_an_organiser(self, client, login_as, people, mail):
        login_as(people["organiser"])
        response = client.post(
            "/groups/uk/members", data={"email": "new@example.org", "role": "member"}
        )
        assert response.status_code == 302
        assert_mail_links_public(mail, count=1)
        assert link_in(mail[0]).startswith(f"{PUBLIC}/invitation/")

    def test_invitation_by_an_admin(self, client, login_as, make_user, make_group, mail):
        make_group(slug="milano")
        login_as(make_user(is_admin=True))
        response = client.post(
            "/admin/groups/milano", data={"email": "compagna@example.org", "role": "organiser"}
        )
        assert response.status_code == 302
        assert_mail_links_public(mail, count=1)
        assert link_in(mail[0]).startswith(f"{PUBLIC}/invitation/")

    def test_join_confirmation(self, client, uk, mail):
        client.post(
            "/g/uk/join", data={"name": "Ann Reader", "email": "ann@example.org", "consent": "y"}
        )
        assert_mail_links_public(mail, count=1)
        body = mail[0].body
        assert f"{PUBLIC}/u/" in body, "the unsubscribe link"
        assert client.post(path_of(link_in(mail[0]))).status_code == 200

    def test_forget_me_confirmation(self, client, uk, db, mail):
        signed_up = contacts.sign_up(
            db.session, uk, email="gone@example.org", name="Gone", consent_text="x"
        )
        contacts.confirm_mailing(db.session, signed_up.confirmation_token)
        db.session.commit()
        client.post("/g/uk/forget", data={"email": "gone@example.org"})
        assert_mail_links_public(mail, count=1)
        assert link_in(mail[0]).startswith(f"{PUBLIC}/forget/")

    def test_event_registration_place_offer_and_cancellation(
        self, client, login_as, people, uk, db, mail
    ):
        meeting = add_meeting(db, uk, title="Monthly meeting", capacity=1)
        for email in ("a@example.org", "b@example.org"):
            form = {"name": "Rosa", "email": email, "note": "", "consent": "y", "website": ""}
            client.post(f"/e/{meeting.public_code}", data=form)
        assert [message.subject for message in mail] == [
            "You are registered: Monthly meeting",
            "Waiting list: Monthly meeting",
        ]
        assert_mail_links_public(mail)
        cancel = re.search(r"https?://\S+/cancel/\S+", mail[0].body).group(0)
        assert cancel.startswith(f"{PUBLIC}/e/{meeting.public_code}/cancel/")
        mail.clear()

        client.post(path_of(cancel))
        assert [message.subject for message in mail] == ["A place is free for you: Monthly meeting"]
        assert_mail_links_public(mail)
        mail.clear()

        login_as(people["organiser"])
        client.post(f"/groups/uk/events/{meeting.id}/cancel")
        assert [message.subject for message in mail] == ["Cancelled: Monthly meeting"]
        assert_mail_links_public(mail)

    def test_organiser_event_page_shows_the_public_address(self, client, login_as, people, uk, db):
        event = add_event(db, uk)
        login_as(people["organiser"])
        page = client.get(f"/groups/uk/events/{event.id}").get_data(as_text=True)
        assert f"{PUBLIC}/e/{event.public_code}" in page
        assert FOREIGN_HOST not in page and FORWARDED_HOST not in page

    def _shift(self, db, event, needed=2):
        shift = rota.add_shift(
            db.session,
            event,
            ShiftRole.STAFFING,
            event.starts_at,
            event.starts_at + timedelta(hours=2),
            people_needed=needed,
        )
        db.session.commit()
        return shift

    def test_rota_assignment_changes_message_and_cancellation(
        self, client, login_as, people, uk, db, mail
    ):
        bookfair = event_row(db.session, uk, title="Bookfair")
        shift = self._shift(db, bookfair)
        login_as(people["organiser"])
        client.post(f"/groups/uk/rota/shifts/{shift.id}/assign", data={"user_id": people["max"].id})
        assert [message.subject for message in mail] == ["You are on the rota: Staffing · Bookfair"]
        local_day = bookfair.starts_at.astimezone(ZoneInfo("Europe/London")).date()
        edit = {
            "role": "staffing",
            "day": local_day.isoformat(),
            "start": "11:00",
            "end": "13:00",
            "people_needed": "2",
            "notes": "bring the banner",
        }
        client.post(f"/groups/uk/rota/shifts/{shift.id}/edit", data=edit)
        client.post(
            f"/groups/uk/rota/events/{bookfair.id}/message",
            data={"subject": "Venue moved", "body": "Round the corner."},
        )
        place = db.session.scalar(sa.select(Assignment).where(Assignment.shift_id == shift.id))
        client.post(f"/groups/uk/rota/assignments/{place.id}/remove")
        rota.sign_up(db.session, shift, people["ann"])
        db.session.commit()
        client.post(f"/groups/uk/rota/shifts/{shift.id}/cancel")
        assert [message.subject.split(":")[0] for message in mail] == [
            "You are on the rota",
            "Shift changed",
            "Venue moved",
            "You are off the rota",
            "Shift cancelled",
        ]
        assert_mail_links_public(mail)

    def test_rota_cover_asked_taken_and_late_withdrawal(
        self, client, login_as, people, uk, db, mail
    ):
        shift = self._shift(db, event_row(db.session, uk, title="Bookfair"))
        place = rota.sign_up(db.session, shift, people["max"])
        soon = event_row(db.session, uk, title="Tonight", starts_at=utcnow() + timedelta(hours=5))
        late = rota.sign_up(db.session, self._shift(db, soon), people["max"])
        db.session.commit()
        login_as(people["max"])
        # A member asking for cover emails every other member of the group.
        client.post(f"/my-shifts/{place.id}/cover", data={"message": "Sorry, hospital"})
        asked = [message for message in mail if message.subject.startswith("Can you cover")]
        assert sorted(message.to for message in asked) == ["ann@example.org", "olive@example.org"]
        assert any(message.subject.startswith("Max asked for cover") for message in mail)
        assert link_in(asked[0]).startswith(f"{PUBLIC}/groups/uk/rota/cover/")
        client.post(f"/my-shifts/{late.id}/withdraw", data={"reason": "flu"})
        assert any(message.subject.startswith("Max cannot do") for message in mail)
        assert_mail_links_public(mail, count=4)
        mail.clear()

        client.post("/logout")
        login_as(people["ann"])
        client.post(path_of(link_in(asked[0])))
        assert sorted(message.to for message in mail) == ["max@example.org", "olive@example.org"]
        assert all(message.subject.startswith("Ann is covering") for message in mail)
        assert_mail_links_public(mail)

    def test_reminders_and_shortages_from_the_command(self, runner, people, uk, db, mail):
        tomorrow = event_row(
            db.session, uk, title="Tomorrow", starts_at=utcnow() + timedelta(hours=30)
        )
        rota.sign_up(db.session, self._shift(db, tomorrow, needed=2), people["max"])
        db.session.commit()
        result = runner.invoke(args=["send-reminders"])
        assert result.exit_code == 0, result.output
        assert sorted(message.subject.split(":")[0] for message in mail) == [
            "Reminder",
            "Shifts still short in CWO (UK)",
        ]
        assert_mail_links_public(mail)

    def test_qr_payload_png_svg_and_print_page(self, client, login_as, people, uk, db):
        login_as(people["organiser"])
        client.post("/groups/uk/qr", data={"label": "table card", "purpose": "join"})
        qr_code = db.session.scalar(sa.select(QrCode))
        payload = f"{PUBLIC}/q/{qr_code.code}"
        base = f"/groups/uk/qr/{qr_code.id}"

        detail = client.get(base).get_data(as_text=True)
        assert f"<code>{payload}</code>" in detail
        assert decode_png(client.get(f"{base}/code.png").data) == payload
        assert client.get(f"{base}/code.svg").data == qr.render_svg(payload)
        page = client.get(f"{base}/print/a6").get_data(as_text=True)
        assert payload in page and qr.inline_svg(payload, f"QR code for {payload}") in page
        for text in (detail, page):
            assert FOREIGN_HOST not in text and FORWARDED_HOST not in text

    def test_group_calendar_feed(self, client, uk, db):
        event = add_event(db, uk)
        feed = client.get("/g/uk/events.ics")
        assert feed.mimetype == "text/calendar"
        text = feed.get_data(as_text=True)
        assert f"{PUBLIC}/e/{event.public_code}" in text.replace("\r\n ", "")
        assert_only_public_links(text)
        event_feed = client.get(f"/e/{event.public_code}/event.ics").get_data(as_text=True)
        assert_only_public_links(event_feed)

    def test_personal_rota_calendar_feed(self, client, login_as, people, uk, db):
        rota.sign_up(
            db.session,
            self._shift(db, event_row(db.session, uk, title="Bookfair")),
            people["max"],
        )
        db.session.commit()
        login_as(people["max"])
        client.post("/my-shifts/calendar")
        page = client.get("/my-shifts").get_data(as_text=True)
        feed_url = re.search(r"http://[^\"'<\s]+/calendar/[^\"'<\s]+\.ics", page).group(0)
        assert feed_url.startswith(f"{PUBLIC}/calendar/")
        assert f"webcal://{PUBLIC_HOST}/calendar/" in page
        assert FOREIGN_HOST not in page and FORWARDED_HOST not in page
        feed = client.get(path_of(feed_url)).get_data(as_text=True)
        assert f"{PUBLIC}/my-shifts" in feed.replace("\r\n ", "")
        assert_only_public_links(feed)
