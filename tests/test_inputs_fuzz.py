"""Generated junk posted to every POST route and to the sync endpoint never gives a 5xx, and an
error answer never leaves anything written.

Each route gets a fresh database with one of everything (a stall with sales, a meeting with a
registration, shifts, a QR code, a message...), an organiser who is also the site admin, logged
in with CSRF switched on. The fields posted to a route are those of the forms that post to it,
found by reading every page (or the form class when no page shows it). In each example every
field holds a valid value but one or two, which hold generated junk: text with control
characters, huge or odd numbers, dates at the edges, Unicode digits, long text.
"""

import json
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter
from wtforms.fields.core import UnboundField

from stallapp import create_app
from stallapp.accounts.forms import LoginForm
from stallapp.accounts.services import membership_of
from stallapp.contacts.services import receive_message
from stallapp.events.models import Registration, RegistrationStatus
from stallapp.qr.models import QrPurpose
from stallapp.qr.services import create_qr_code
from stallapp.rota import cover, shifts, unavailability
from stallapp.rota.forms import CopyRotaForm
from stallapp.rota.models import ShiftRole
from stallapp.stock.forms import CopyForm, MoveForm
from tests.builders import add_event, build_stall
from tests.conftest import PASSWORD, base_test_config
from tests.inputs_helpers import changed_tables, snapshot

#: Examples per route: enough to meet each kind of junk in a few fields, few enough that the
#: file runs in a couple of minutes per backend.
EXAMPLES_PER_ROUTE = 20
EXAMPLES_FOR_SYNC = 60
JUNK_SETTINGS = settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _post_endpoints() -> list[str]:
    app = create_app(base_test_config("sqlite://"))
    return sorted({rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods})


POST_ENDPOINTS = _post_endpoints()
#: Routes that take JSON rather than a form; each has a test of its own below.
JSON_ENDPOINTS = {"sales.sync"}
FORM_ENDPOINTS = [endpoint for endpoint in POST_ENDPOINTS if endpoint not in JSON_ENDPOINTS]


@pytest.fixture
def app_config(app_config):
    """CSRF on, and the rate limits out of the way so they cannot hide a 5xx."""
    return {
        **app_config,
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_FORM_LIMIT": "100000 per minute",
        "LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS": "100000 per minute",
        "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
        "LOGIN_SLOWDOWN_FREE_FAILURES": 1_000_000,
        "LOGIN_SLOWDOWN_MAX_SECONDS": 0,
    }


# The world --------------------------------------------------------------------------------


@pytest.fixture
def world(db, make_group, make_user):
    """One of everything in group ``uk``; returns the values URL arguments take."""
    uk = make_group(slug="uk", name="CWO (UK)")
    other = make_group(slug="nyc", timezone="America/New_York", currency="USD")
    organiser = make_user(
        email="organiser@example.org", groups={uk: "organiser", other: "member"}, is_admin=True
    )
    member = make_user(email="member@example.org", groups={uk: "member"})
    stall_event = add_event(db, uk, title="Bookfair", hours=7)
    stall = build_stall(db, uk, organiser, member, stall_event)
    meeting = add_event(db, uk, registration_required=True, capacity=10)
    registration = Registration(
        event_id=meeting.id,
        status=RegistrationStatus.REGISTERED,
        name="Registrant",
        email="registrant@example.org",
    )
    db.session.add(registration)
    qr_code = create_qr_code(db.session, uk, QrPurpose.JOIN, "table card")
    message = receive_message(
        db.session, uk, email="visitor@example.org", name="Visitor", body="Hello"
    ).message
    shift = shifts.add_shift(
        db.session,
        stall_event,
        ShiftRole.STAFFING,
        stall_event.starts_at,
        stall_event.starts_at + timedelta(hours=2),
        people_needed=3,
    )
    own = shifts.sign_up(db.session, shift, organiser)
    theirs = shifts.sign_up(db.session, shift, member)
    cover_request, _ = cover.ask_for_cover(db.session, theirs, "")
    unavailable = unavailability.mark_unavailable(
        db.session, organiser, stall_event.starts_at.date() + timedelta(days=3)
    )
    db.session.commit()
    sale_id = stall.results["results"][0]["sale_id"]
    return {
        "group_slug": uk.slug,
        "slug": other.slug,
        "membership_id": membership_of(db.session, member, uk).id,
        "user_id": member.id,
        "qr_code_id": qr_code.id,
        "message_id": message.id,
        "event_id": stall_event.id,
        "event_code": meeting.public_code,
        "registration_id": registration.id,
        "publication_id": stall.titles["journal"].id,
        "store_id": stall.store.id,
        "movement_id": _first_movement_id(db),
        "offer_id": _first_offer_id(db),
        "sale_id": sale_id,
        "shift_id": shift.id,
        "assignment_id": own.id,
        "cover_request_id": cover_request.id,
        "unavailability_id": unavailable.id,
        "token": "no-such-token",
        "code": qr_code.code,
        "paper": "a6",
        "filename": "css/app.css",
        "table": "titles",
        "organiser": organiser,
        "meeting_id": meeting.id,
    }


def _first_movement_id(db) -> int:
    from stallapp.stock.models import StockMovement

    return db.session.scalar(sa.select(sa.func.min(StockMovement.id)))


def _first_offer_id(db) -> int:
    from stallapp.stock.models import SubscriptionOffer

    return db.session.scalar(sa.select(sa.func.min(SubscriptionOffer.id)))


def _url_for_rule(app, rule, world) -> str:
    arguments = dict(world)
    if rule.endpoint == "events.check_in":
        arguments["event_id"] = world["meeting_id"]
    for name in set(rule.arguments) - set(arguments):
        # An id this world has no row for (a late sale, an announcement): the route still gets
        # its junk and must answer 404, not 500. Give the world a real one to reach its form.
        if isinstance(rule._converters.get(name), IntegerConverter):
            arguments[name] = 1
    missing = set(rule.arguments) - set(arguments)
    assert not missing, f"{rule.rule}: teach this test a value for {missing}"
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: arguments[name] for name in rule.arguments})


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _logged_in_client(app, user):
    client = app.test_client()
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, "login failed"
    return client


# Which fields post to which route ---------------------------------------------------------


class _FormReader(HTMLParser):
    """Collect each POST form's action and its fields' names and values."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str | None, dict[str, str]]] = []
        self._fields: dict[str, str] | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            self._fields = {}
            self.forms.append((attributes.get("action"), self._fields))
        if self._fields is None:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and name in self._fields:
                return
            self._fields[name] = attributes.get("value") or ("y" if kind == "checkbox" else "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._fields[name] = ""
        elif tag == "select" and name:
            self._select = name
            self._fields.setdefault(name, "")
        elif tag == "option" and self._select and not self._fields.get(self._select):
            self._fields[self._select] = attributes.get("value") or ""

    def handle_data(self, data):
        if self._fields is not None and self._textarea:
            self._fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def _fields_by_endpoint(app, client, world) -> dict[str, dict[str, str]]:
    """Read every page the organiser can open; return the fields each POST endpoint receives."""
    adapter = app.url_map.bind("stall.test")
    found: dict[str, dict[str, str]] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if set(rule.arguments) - set(world):
            continue
        page_url = _url_for_rule(app, rule, world)
        response = client.get(page_url)
        if response.mimetype != "text/html":
            continue
        reader = _FormReader()
        reader.feed(response.get_data(as_text=True))
        for action, fields in reader.forms:
            path = (action or page_url).split("?")[0]
            path = re.sub(r"^https?://[^/]+", "", path)
            try:
                endpoint, _ = adapter.match(path, method="POST")
            except Exception:  # noqa: S112 - a form posting elsewhere, e.g. a GET search
                continue
            found.setdefault(endpoint, {}).update(fields)
    return found


#: Forms of routes whose form no page of this world shows (a second store, another group's
#: titles, a logged-out login page...): their fields come from the form class.
FORM_CLASSES = {
    "accounts.login": (LoginForm, ""),
    "rota.copy": (CopyRotaForm, ""),
    "stock.copy_publication": (CopyForm, ""),
    "stock.move": (MoveForm, "move-"),
}
#: Routes read without a WTForms form: their fields, as the sale screen and door list send them.
RAW_FIELDS = {
    "sales.record": {
        "operation_id": "",
        "type": "sale",
        "publication_id": "1",
        "quantity": "1",
        "amount": "",
        "currency": "GBP",
        "payment_method": "cash",
        "offer_id": "1",
        "name": "",
        "email": "",
        "consent": "y",
    },
    "events.check_in": {"checked_in": "1"},
}


def _known_fields(endpoint: str) -> dict[str, str]:
    if endpoint in RAW_FIELDS:
        return RAW_FIELDS[endpoint]
    if endpoint not in FORM_CLASSES:
        return {}
    form_class, prefix = FORM_CLASSES[endpoint]
    names = {
        name
        for klass in form_class.__mro__
        for name, value in vars(klass).items()
        if isinstance(value, UnboundField)
    }
    return {prefix + name: "" for name in names}


# Generated values -------------------------------------------------------------------------

#: Characters of every kind but lone surrogates (form bodies are UTF-8, which cannot hold them).
_ANY_CHARACTER = st.characters(exclude_categories=("Cs",))
_CONTROL = st.sampled_from(["\x00", "\x01", "\x07", "\x0b", "\x1b", "\x7f", "\x85", "\x9f"])
_ODD_NUMBERS = st.sampled_from(
    [
        "1e999999",
        "-1e999999",
        "1e-999999",
        "NaN",
        "Infinity",
        "-Infinity",
        "9" * 10_000,
        "99999999999999999999",
        "-1",
        "0",
        "-0",
        "²",
        "１２",
        "١٢",
        "0x10",
        "1_000",
        "12.345",
        "1,5",
        "2147483648",
    ]
)
_EDGE_DATES = st.sampled_from(
    [
        "9999-12-31",
        "0001-01-01",
        "1999-12-31",
        "2000-01-01",
        "2100-12-31",
        "2101-01-01",
        "2024-02-30",
        "2024-13-01",
    ]
)
_TIMES = st.sampled_from(["00:00", "23:59", "24:00", "12:60", "01:30", "02:30"])


def _junk() -> st.SearchStrategy[str]:
    with_control = st.tuples(
        st.text(_ANY_CHARACTER, max_size=10), _CONTROL, st.text(_ANY_CHARACTER, max_size=10)
    ).map("".join)
    return st.one_of(
        with_control,
        with_control.map(str.upper),
        st.text(_ANY_CHARACTER, max_size=40),
        _ODD_NUMBERS,
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        _EDGE_DATES,
        st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
        _TIMES,
        st.sampled_from([10_001, 200_000]).map(lambda size: "x" * size),
    )


#: Values that pass each field's own checks, by the end of its name, for fields the page shows
#: empty: junk in one field then reaches the services with the others valid.
SENSIBLE = {
    "email": "someone@example.org",
    "name": "Sam Visitor",
    "message": "Hello",
    "body": "See you there",
    "subject": "Saturday",
    "title": "Bookfair",
    "label": "Table card",
    "reason": "Water damage",
    "note": "A note",
    "prices": "GBP 2",
    "language": "en",
    "timezone": "Europe/London",
    "start_date": "2030-05-04",
    "end_date": "2030-05-04",
    "first_day": "2030-05-01",
    "last_day": "2030-08-31",
    "day": "2030-05-04",
    "start_time": "10:00",
    "end_time": "16:00",
    "start": "10:00",
    "end": "16:00",
    "dates": "2030-05-04",
    "quantity": "1",
    "counted": "3",
    "people_needed": "2",
    "capacity": "20",
    "custom_role": "Urn",
    "password": PASSWORD,
    "confirm": PASSWORD,
    "current_password": PASSWORD,
    "slug": "newgroup",
    "currency": "GBP",
    "amount": "2.50",
}
#: Honeypots: anything in them makes the form drop the post unseen.
HONEYPOTS = {"website"}


def _sensible(name: str, value: str) -> str:
    if value or name in HONEYPOTS:
        return value
    key = name.rsplit("-", 1)[-1]
    if key.startswith(("cash_", "float_")):
        return "10"
    if key.startswith("count_"):
        return "0"
    return SENSIBLE.get(key, "")


@st.composite
def _values_for(draw, fields: dict[str, str]) -> dict[str, str]:
    """Every field valid but one or two, which take generated junk."""
    values = {name: _sensible(name, value) for name, value in fields.items()}
    names = sorted(set(values) - HONEYPOTS)
    if names:
        for name in draw(st.sets(st.sampled_from(names), min_size=1, max_size=2)):
            values[name] = draw(_junk())
    return values


# The tests --------------------------------------------------------------------------------

_fields_cache: dict[str, dict[str, dict[str, str]]] = {}


@pytest.mark.parametrize("endpoint", FORM_ENDPOINTS)
def test_junk_posted_to_a_route_never_gives_a_5xx(app, db, world, backend, endpoint):
    client = _logged_in_client(app, world["organiser"])
    if backend not in _fields_cache:
        _fields_cache[backend] = _fields_by_endpoint(app, client, world)
    fields = {**_known_fields(endpoint), **_fields_cache[backend].get(endpoint, {})}
    fields.pop("csrf_token", None)
    # A button sends only its token, and a route whose form this world never shows (a late sale's,
    # say) is reached all the same: junk in a field it does not expect must not hurt either.
    fields = fields or {"unexpected": ""}
    [rule] = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    url = _url_for_rule(app, rule, world)
    token = client.get("/sale/csrf-token").get_json()["csrf_token"]

    @JUNK_SETTINGS
    @given(values=_values_for(fields))
    def post_junk(values):
        before = snapshot(db)
        # As a browser sends it from our own page: public forms check that, not a token.
        response = client.post(
            url, data={**values, "csrf_token": token}, headers={"Sec-Fetch-Site": "same-origin"}
        )
        assert response.status_code < 500, (endpoint, values, response.status_code)
        if response.status_code >= 400:
            changed = changed_tables(before, snapshot(db))
            assert not changed, (endpoint, values, response.status_code, changed)

    post_junk()


def _json_values() -> st.SearchStrategy:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(st.characters(), max_size=20),
        _ODD_NUMBERS,
        _EDGE_DATES,
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=12,
    )


def _operations(world) -> st.SearchStrategy:
    """Sync operations whose every field is either sensible or junk."""
    junk = st.one_of(_json_values(), _junk())
    field = {
        "id": st.one_of(st.uuids().map(str), junk),
        "type": st.one_of(st.sampled_from(["sale", "giveaway", "donation", "subscription"]), junk),
        "publication_id": st.one_of(st.just(world["publication_id"]), junk),
        "quantity": st.one_of(st.integers(min_value=-5, max_value=2_000), junk),
        "amount": st.one_of(st.none(), _ODD_NUMBERS, st.just("2.50"), junk),
        "currency": st.one_of(st.sampled_from(["GBP", "EUR", "XXX"]), junk),
        "payment_method": st.one_of(st.sampled_from(["cash", "card"]), junk),
        "offer_id": st.one_of(st.just(world["offer_id"]), junk),
        "taken_at": st.one_of(
            st.none(),
            st.sampled_from(
                [
                    "9999-12-31T23:59:59-05:00",
                    "0001-01-01T00:00:00+01:00",
                    "2024-05-01T10:00:00+00:00",
                    "2024-05-01T10:00:00",
                ]
            ),
            junk,
        ),
        "subscriber": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {"name": st.one_of(st.text(st.characters(), max_size=20), junk), "email": junk}
            ),
            junk,
        ),
    }
    return st.fixed_dictionaries({}, optional=field)


def test_junk_synced_never_gives_a_5xx(app, db, world):
    assert set(POST_ENDPOINTS) >= JSON_ENDPOINTS
    client = _logged_in_client(app, world["organiser"])
    token = client.get("/sale/csrf-token").get_json()["csrf_token"]
    with app.test_request_context():
        url = url_for("sales.sync", group_slug="uk", event_id=world["event_id"])
    bodies = st.one_of(
        st.fixed_dictionaries(
            {"operations": st.lists(_operations(world), min_size=0, max_size=4)}
        ).map(json.dumps),
        _json_values().map(json.dumps),
        st.integers(min_value=1, max_value=200_000).map(lambda depth: "[" * depth),
        st.text(st.characters(), max_size=40),
    )

    @settings(
        max_examples=EXAMPLES_FOR_SYNC,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(body=bodies)
    def sync_junk(body):
        before = snapshot(db)
        response = client.post(
            url,
            data=body.encode("utf-8", "surrogatepass"),
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )
        assert response.status_code < 500, (body[:200], response.status_code)
        assert response.is_json, body[:200]
        if response.status_code >= 400:
            assert not changed_tables(before, snapshot(db)), (body[:200], response.status_code)

    sync_junk()
