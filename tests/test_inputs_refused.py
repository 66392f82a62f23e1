"""Input that used to give a 500 is refused with a 400 and a message, and nothing is written:
control characters, numbers and dates beyond any use, runaway JSON, huge bodies, huge pages."""

import json
import uuid
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from stallapp.accounts.models import LoginSession
from stallapp.contacts.models import Contact, ContactMessage
from stallapp.errors import ValidationFailed
from stallapp.events import services as events
from stallapp.events.models import Event
from stallapp.events.series import Frequency, SeriesRule, SeriesRuleError
from stallapp.forms import StallForm
from stallapp.inputs import json_too_deep, whole_number
from stallapp.money import AmountOutOfRange, parse_money
from stallapp.rota import unavailability as rota
from stallapp.sales import till
from stallapp.sales.models import ClientOperation, Sale
from stallapp.stock.models import StockMovement
from tests.builders import build_stall, details
from tests.inputs_helpers import changed_tables, snapshot

CONTROL_MESSAGE = "invisible control characters"
HUGE_AMOUNTS = ["1e999999", "NaN", "Infinity", "-Infinity", "9" * 10_000, "1e20", "١٢"]


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def sale_screen(event) -> str:
    return f"/groups/uk/sell/{event.id}"


# Control characters ------------------------------------------------------------------------


def test_every_form_inherits_the_base_form_that_refuses_control_characters(app):
    from flask_wtf import FlaskForm

    def subclasses(klass):
        for sub in klass.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = [form for form in subclasses(FlaskForm) if form.__module__.startswith("stallapp.")]
    assert len(forms) > 30
    assert [form for form in forms if not issubclass(form, StallForm)] == []


def test_a_nul_byte_in_the_login_email_is_refused_with_a_message(client, db, make_user):
    user = make_user(email="olive@example.org")
    response = client.post("/login", data={"email": "olive\x00@example.org", "password": "x"})
    assert response.status_code == 400
    assert CONTROL_MESSAGE in response.get_data(as_text=True)
    assert count(db, LoginSession) == 0
    assert user.email == "olive@example.org"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/g/uk/join", {"name": "Nul\x00Name", "email": "n@example.org", "consent": "y"}),
        ("/g/uk/contact", {"name": "Sam", "email": "s@example.org", "message": "Hi\x00there"}),
        ("/g/uk/contact", {"name": "Sam", "email": "s@example.org", "message": "Hi\x85there"}),
        ("/g/uk/contact", {"name": "Sam\x7f", "email": "s@example.org", "message": "Hello"}),
        ("/g/uk/forget", {"email": "s\x00@example.org"}),
    ],
)
def test_control_characters_in_public_forms_are_refused_next_to_the_field(
    client, db, uk, path, data
):
    before = snapshot(db)
    response = client.post(path, data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert CONTROL_MESSAGE in page
    assert "<form" in page, "the form is shown again with the message"
    assert changed_tables(before, snapshot(db)) == []


def test_multi_line_text_keeps_line_breaks_and_tabs(client, db, uk):
    response = client.post(
        "/g/uk/contact",
        data={"name": "Sam", "email": "s@example.org", "message": "Hello\r\n\tthere"},
    )
    assert response.status_code == 200
    assert "Hello\n\tthere" in db.session.scalar(sa.select(ContactMessage.body))


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("Book\nfair", "Write this on one line."),
        ("Book\tfair", "Write this on one line."),
        ("Book\x00fair", CONTROL_MESSAGE),
        ("Book\x1bfair", CONTROL_MESSAGE),
        ("Book\x9ffair", CONTROL_MESSAGE),
    ],
)
def test_an_event_title_is_one_line_of_plain_text(
    client, db, login_as, organiser, uk, title, message
):
    login_as(organiser)
    response = client.post(
        "/groups/uk/events/new",
        data={
            "kind": "stall",
            "title": title,
            "timezone": "Europe/London",
            "start_date": "2030-05-04",
            "start_time": "10:00",
            "end_time": "16:00",
        },
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(db, Event) == 0


@pytest.fixture
def closing_stall(db, uk, organiser, member, event):
    return build_stall(db, uk, organiser, member, event)


def close_out_data(stall, **overrides) -> dict:
    data = {
        "store": str(stall.store.id),
        "float_GBP": "10",
        "cash_GBP": "58",
        "float_EUR": "0",
        "cash_EUR": "5",
        "note": "",
    }
    left = {"journal": 16, "aurora": 18, "book": 3, "pamphlet": 0}
    for key, copies in left.items():
        data[f"count_{stall.titles[key].id}"] = str(copies)
    data.update(overrides)
    return data


def test_a_nul_byte_in_the_close_out_note_is_refused(client, db, login_as, closing_stall):
    login_as(closing_stall.organiser)
    before = snapshot(db)
    response = client.post(
        f"/groups/uk/events/{closing_stall.event.id}/close-out",
        data=close_out_data(closing_stall, note="Counted\x00twice"),
    )
    assert response.status_code == 400
    assert CONTROL_MESSAGE in response.get_data(as_text=True)
    assert not till.is_closed(db.session, closing_stall.event)
    assert changed_tables(before, snapshot(db)) == []


def test_a_nul_byte_in_a_subscriber_name_on_the_sale_screen_is_refused(
    client, db, login_as, member, event, stall
):
    offer_id = _offer(db, event)
    login_as(member)
    response = client.post(
        f"{sale_screen(event)}/record",
        data={
            "operation_id": str(uuid.uuid4()),
            "type": "subscription",
            "offer_id": str(offer_id),
            "name": "Sam\x00",
            "email": "sam@example.org",
            "consent": "y",
        },
    )
    assert response.status_code == 400
    assert "may not contain control characters" in response.get_data(as_text=True)
    assert (count(db, Sale), count(db, Contact), count(db, ClientOperation)) == (0, 0, 0)


def _offer(db, event) -> int:
    from stallapp.stock import services as stock

    offer = stock.save_subscription_offer(
        db.session, event.group, name="Joint sub", description="", prices={"GBP": 1500}
    )
    db.session.commit()
    return offer.id


def test_control_characters_in_the_query_string_are_refused(client, login_as, organiser, uk):
    login_as(organiser)
    response = client.get("/groups/uk/contacts/?q=%00")
    assert response.status_code == 400
    assert "cannot be used" in response.get_data(as_text=True)
    assert client.get("/g/uk?x=%C2%85").status_code == 400


@pytest.mark.parametrize("bad", ["Sam\u0000", "Sam\ud800", "Sam\u009b"])
def test_control_characters_deep_in_json_name_the_operation(
    client, db, login_as, member, event, stall, bad
):
    offer_id = _offer(db, event)
    login_as(member)
    good = {"id": str(uuid.uuid4()), "type": "donation", "amount": "5"}
    wrong = {
        "id": str(uuid.uuid4()),
        "type": "subscription",
        "offer_id": offer_id,
        "subscriber": {"name": bad, "email": "sam@example.org", "consent": True},
    }
    body = json.dumps({"operations": [good, wrong]})
    before = snapshot(db)
    response = client.post(f"{sale_screen(event)}/sync", data=body, content_type="application/json")
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["operation"] == wrong["id"]
    assert answer["field"] == "operations.1.subscriber.name"
    assert "control characters" in answer["error"]
    assert changed_tables(before, snapshot(db)) == []


def test_an_id_in_the_url_beyond_the_database_integers_is_not_found(
    client, login_as, organiser, uk
):
    login_as(organiser)
    assert client.get("/groups/uk/events/99999999999999/edit").status_code == 404
    assert client.get(f"/groups/uk/events/{2**31}/edit").status_code == 404


def test_an_id_in_the_url_written_with_other_digits_is_not_found(
    db, client, login_as, organiser, uk, event, stall
):
    """Werkzeug's int converter took "１" (full width) for 1: a sale reached event 1."""
    login_as(organiser)
    full_width = "".join(chr(0xFF10 + int(digit)) for digit in str(event.id))
    assert client.get(f"/groups/uk/events/{full_width}/edit").status_code == 404
    before = snapshot(db)
    response = client.post(
        f"/groups/uk/sell/{full_width}/sync",
        json={"operations": [{"id": str(uuid.uuid4()), "type": "donation", "amount": "1"}]},
    )
    assert response.status_code == 404
    assert changed_tables(before, snapshot(db)) == []
    assert client.get(f"/groups/uk/events/{event.id}/edit").status_code == 200


# Numbers -----------------------------------------------------------------------------------


def test_parse_money_refuses_what_decimal_would_overflow_on():
    with pytest.raises(AmountOutOfRange):
        parse_money("1e999999", "GBP")
    for text in ("NaN", "Infinity", "9" * 10_000, "１２", "١٢", "1e-999999", "0.0000000000001"):
        with pytest.raises(ValueError):
            parse_money(text, "GBP")
    assert parse_money("12,50", "EUR") == 1250
    assert parse_money("0e999999", "GBP") == 0


def test_whole_numbers_are_ascii_digits_within_bounds():
    assert whole_number(" 12 ", 100) == 12
    for text in ("²", "１２", "١٢", "9" * 10_000, "-1", "1e3", "101", "", "12.0"):
        assert whole_number(text, 100) is None


@pytest.mark.parametrize("amount", HUGE_AMOUNTS)
def test_a_huge_donation_on_the_sale_screen_is_refused(
    client, db, login_as, member, event, stall, amount
):
    login_as(member)
    response = client.post(
        f"{sale_screen(event)}/record",
        data={"operation_id": str(uuid.uuid4()), "type": "donation", "amount": amount},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="donation-error"' in page
    assert "Enter an amount" in page or "between 0 and a million" in page or "at most 20" in page
    assert (count(db, Sale), count(db, ClientOperation)) == (0, 0)


@pytest.mark.parametrize("amount", HUGE_AMOUNTS)
def test_a_huge_amount_synced_is_refused_naming_the_operation(
    client, db, login_as, member, event, stall, amount
):
    login_as(member)
    operation = {"id": str(uuid.uuid4()), "type": "sale", "publication_id": stall["book"].id}
    operation["amount"] = amount
    response = client.post(f"{sale_screen(event)}/sync", json={"operations": [operation]})
    assert response.status_code == 400
    assert response.get_json()["operation"] == operation["id"]
    assert (count(db, Sale), count(db, ClientOperation)) == (0, 0)


@pytest.mark.parametrize("cash", HUGE_AMOUNTS)
def test_a_huge_cash_count_at_close_out_is_refused(client, db, login_as, closing_stall, cash):
    login_as(closing_stall.organiser)
    before = snapshot(db)
    response = client.post(
        f"/groups/uk/events/{closing_stall.event.id}/close-out",
        data=close_out_data(closing_stall, cash_GBP=cash),
    )
    assert response.status_code < 500
    page = response.get_data(as_text=True)
    assert "Enter an amount" in page or "between 0 and a million" in page
    assert not till.is_closed(db.session, closing_stall.event)
    assert changed_tables(before, snapshot(db)) == []


@pytest.mark.parametrize("price", ["GBP 1e999999", "GBP NaN", "GBP " + "9" * 10_000])
def test_a_huge_price_is_refused(client, db, login_as, organiser, uk, price):
    login_as(organiser)
    response = client.post(
        "/groups/uk/stock/publications/new",
        data={"title": "Aurora", "kind": "broadsheet", "language": "en", "prices": price},
    )
    assert response.status_code < 500
    page = response.get_data(as_text=True)
    assert "is not an amount" in page or "between 0 and a million" in page or "Write each" in page


@pytest.mark.parametrize("quantity", ["²", "１２", "١٢", "9" * 10_000, "-1", "100001", "1e3"])
def test_the_pack_form_takes_only_ascii_whole_numbers(
    client, db, login_as, organiser, uk, store, event, make_publication, quantity
):
    journal = make_publication(uk)
    login_as(organiser)
    before = count(db, StockMovement)
    response = client.post(
        f"/groups/uk/stock/events/{event.id}/pack",
        data={"store_id": str(store.id), f"quantity-{journal.id}": quantity},
    )
    assert response.status_code == 400
    assert "Enter a whole number, 0 or more." in response.get_data(as_text=True)
    assert count(db, StockMovement) == before


@pytest.mark.parametrize("quantity", ["0", "-1", "１２", "1001", "9" * 10_000])
def test_the_sale_form_refuses_quantities_outside_1_to_1000(
    client, db, login_as, member, event, stall, quantity
):
    login_as(member)
    response = client.post(
        f"{sale_screen(event)}/record",
        data={
            "operation_id": str(uuid.uuid4()),
            "type": "sale",
            "publication_id": str(stall["journal"].id),
            "quantity": quantity,
        },
    )
    assert response.status_code == 400
    assert "quantity" in response.get_data(as_text=True)
    assert (count(db, Sale), count(db, ClientOperation)) == (0, 0)


def test_an_empty_quantity_on_the_sale_form_still_sells_one(
    client, db, login_as, member, event, stall
):
    login_as(member)
    client.post(
        f"{sale_screen(event)}/record",
        data={
            "operation_id": str(uuid.uuid4()),
            "type": "sale",
            "publication_id": str(stall["journal"].id),
            "quantity": "",
        },
    )
    assert [line.quantity for line in db.session.scalar(sa.select(Sale)).lines] == [1]


def test_a_whole_number_beyond_32_bits_is_refused_by_forms(app, client, login_as, organiser, uk):
    from stallapp.qr.forms import QrCodeForm
    from stallapp.stock.forms import CopyForm

    with app.test_request_context(method="POST", data={"source_id": str(2**31)}):
        form = CopyForm()
        assert not form.validate()
        assert form.source_id.errors == ["That number is far too large."]
    data = {"label": "Card", "purpose": "event", "event_id": "9" * 30}
    with app.test_request_context(method="POST", data=data):
        form = QrCodeForm()
        form.event_id.choices = []
        assert not form.validate()
        assert form.event_id.errors == ["That number is far too large."]
    login_as(organiser)
    response = client.post("/groups/uk/stock/publications/copy", data={"source_id": str(2**31)})
    assert response.status_code == 200


@pytest.mark.parametrize("page", ["99999999999999999999", "-3", "0", "9" * 10_000, "x"])
def test_huge_page_numbers_are_clamped(client, login_as, organiser, uk, page):
    login_as(organiser)
    response = client.get(f"/groups/uk/contacts/?page={page}")
    assert response.status_code == 200


# Dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "code", "field"),
    [
        (datetime(9999, 12, 31, 23, 0), datetime(9999, 12, 31, 23, 30), "date_out_of_range", None),
        (datetime(1, 1, 1, 0, 0), datetime(1, 1, 1, 2, 0), "date_out_of_range", "start_date"),
        (datetime(1999, 12, 31, 22, 0), datetime(2000, 1, 1, 2, 0), "date_out_of_range", None),
        (datetime(2100, 12, 31, 20, 0), datetime(2101, 1, 1, 2, 0), "date_out_of_range", None),
        (datetime(2030, 5, 1, 10, 0), datetime(2030, 5, 15, 10, 1), "too_long", "end_date"),
    ],
)
def test_the_events_service_bounds_dates_and_lengths(db, uk, start, end, code, field):
    before = count(db, Event)
    with pytest.raises(events.EventFieldError) as refused:
        events.create_event(db.session, uk, details(uk, start=start, hours=0, end=end))
    assert refused.value.code == code
    if field:
        assert refused.value.field == field
    db.session.rollback()
    assert count(db, Event) == before


def test_an_event_of_exactly_14_days_between_2000_and_2100_is_fine(db, uk):
    start = datetime(2100, 12, 17, 10, 0)
    event = events.create_event(
        db.session, uk, details(uk, start=start, hours=0, end=start + timedelta(days=14))
    )
    assert event.ends_at - event.starts_at == timedelta(days=14)


def test_the_event_form_shows_the_date_rule_next_to_the_field(client, db, login_as, organiser, uk):
    login_as(organiser)
    response = client.post(
        "/groups/uk/events/new",
        data={
            "kind": "stall",
            "title": "Bookfair",
            "timezone": "Pacific/Kiritimati",
            "start_date": "9999-12-31",
            "start_time": "23:00",
            "end_time": "23:30",
        },
    )
    assert "Choose a date between 2000-01-01 and 2100-12-31." in response.get_data(as_text=True)
    response = client.post(
        "/groups/uk/events/new",
        data={
            "kind": "stall",
            "title": "Bookfair",
            "timezone": "Europe/London",
            "start_date": "2030-05-01",
            "end_date": "2030-05-20",
            "start_time": "10:00",
            "end_time": "16:00",
        },
    )
    assert "An event lasts at most 14 days." in response.get_data(as_text=True)
    assert count(db, Event) == 0


def test_the_series_rules_bound_their_days(db, uk):
    from stallapp.events.series import occurrence_dates

    for rule in (
        SeriesRule(Frequency.DATES, dates=(date(2030, 1, 1), date(9999, 12, 31))),
        SeriesRule(Frequency.DATES, dates=(date(1, 1, 1),)),
        SeriesRule(Frequency.WEEKLY, date(9999, 12, 1), date(9999, 12, 31), weekdays=(5,)),
        SeriesRule(Frequency.MONTHLY, date(2099, 1, 1), date(9999, 12, 31)),
    ):
        with pytest.raises(SeriesRuleError) as refused:
            occurrence_dates(rule, time(15, 30))
        assert refused.value.code == "date_out_of_range"


def test_the_series_form_shows_a_date_out_of_range(client, db, login_as, organiser, uk):
    login_as(organiser)
    response = client.post(
        "/groups/uk/events/series/new",
        data={
            "kind": "public_meeting",
            "title": "Meeting",
            "timezone": "Asia/Tokyo",
            "start_time": "00:00",
            "end_time": "02:00",
            "frequency": "dates",
            "dates": "2030-01-05\n0001-01-01",
        },
    )
    assert response.status_code < 500
    assert "Choose dates between 2000-01-01 and 2100-12-31." in response.get_data(as_text=True)
    assert count(db, Event) == 0


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2101-01-01"])
def test_a_shift_on_a_day_out_of_range_is_refused(client, db, login_as, organiser, uk, event, day):
    from stallapp.rota.models import Shift

    login_as(organiser)
    response = client.post(
        f"/groups/uk/rota/events/{event.id}/shifts/new",
        data={
            "role": "staffing",
            "day": day,
            "start": "23:00",
            "end": "01:00",
            "people_needed": "1",
        },
    )
    assert response.status_code < 500
    assert "Choose a date between 2000-01-01 and 2100-12-31." in response.get_data(as_text=True)
    assert count(db, Shift) == 0


def test_an_unavailable_day_after_2100_is_refused(client, db, login_as, member):
    with pytest.raises(ValidationFailed) as refused:
        rota.mark_unavailable(db.session, member, date(2101, 1, 1))
    assert refused.value.code == "date_out_of_range"
    db.session.rollback()
    login_as(member)
    response = client.post("/my-shifts/unavailable", data={"day": "9999-12-31"})
    assert response.status_code < 500
    assert "2100-12-31" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    ["start=9999-12-31&end=9999-12-31", "start=0001-01-01&end=0001-01-02", "start=x&end=y"],
)
def test_rota_and_report_ranges_at_the_edges_fall_back_to_the_default(
    client, login_as, organiser, uk, query
):
    login_as(organiser)
    assert client.get(f"/groups/uk/rota?{query}").status_code == 200
    period = query.replace("start", "first").replace("end", "last")
    assert client.get(f"/groups/uk/reports?{period}").status_code == 200


@pytest.mark.parametrize(
    "taken_at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00", "1999-12-31T12:00Z"]
)
def test_a_sync_time_out_of_range_is_refused_naming_the_operation(
    client, db, login_as, member, event, stall, taken_at
):
    login_as(member)
    operation = {
        "id": str(uuid.uuid4()),
        "type": "sale",
        "publication_id": stall["journal"].id,
        "taken_at": taken_at,
    }
    response = client.post(f"{sale_screen(event)}/sync", json={"operations": [operation]})
    assert response.status_code == 400
    assert response.get_json()["operation"] == operation["id"]
    assert "taken_at" in response.get_json()["error"]
    assert count(db, Sale) == 0


# JSON, sizes -------------------------------------------------------------------------------


def test_json_depth_is_measured_without_decoding():
    assert json_too_deep("[" * 100_000)
    assert not json_too_deep('{"a": [[["[[[[[[[[[[[[[[[[[[[[[[[[[[["]]]}')
    assert not json_too_deep('{"a": "\\\\", "b": [1]}')
    assert json_too_deep('{"a": "\\"", "b": ' + "[" * 30 + "]" * 30 + "}")


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        '{"operations": [' * 10_000,
        '{"operations": [{"id": "x", "quantity": NaN}]}',
        '{"operations": [{"id": "x", "quantity": Infinity}]}',
        '{"operations": [{"id": "x", "quantity": 1e999999}]}',
        '{"operations": [{"id": "x", "quantity": ' + "9" * 5000 + "}]}",
        '["not", "an", "object"]',
        "{not json",
    ],
)
def test_runaway_or_malformed_json_is_a_400_in_json(client, db, login_as, member, event, body):
    login_as(member)
    before = snapshot(db)
    response = client.post(f"{sale_screen(event)}/sync", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]
    assert changed_tables(before, snapshot(db)) == []


def test_a_json_body_over_the_cap_is_a_413_in_json(client, login_as, member, event):
    login_as(member)
    body = json.dumps({"operations": [], "padding": "x" * 300_000})
    response = client.post(f"{sale_screen(event)}/sync", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]


def test_a_body_over_one_megabyte_gets_the_friendly_413_page(app, client, db, uk):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    message = "x" * (2 * 1024 * 1024)
    response = client.post(
        "/g/uk/contact", data={"name": "Sam", "email": "s@example.org", "message": message}
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "That was too much to send" in page
    assert message[:10_000] not in page
    assert count(db, ContactMessage) == 0


def test_text_longer_than_its_field_is_refused(client, db, uk):
    response = client.post(
        "/g/uk/contact", data={"name": "Sam", "email": "s@example.org", "message": "x" * 5001}
    )
    assert "Field cannot be longer than 5000 characters." in response.get_data(as_text=True)
    assert count(db, ContactMessage) == 0


# Sync refusals -----------------------------------------------------------------------------


def test_a_refused_operation_leaves_other_events_alone(
    client, db, login_as, member, uk, event, stall, make_event
):
    other_event = make_event(uk, title="Another stall")
    login_as(member)
    bad = {"id": str(uuid.uuid4()), "type": "donation", "amount": "1e999999"}
    good_here = {"id": str(uuid.uuid4()), "type": "donation", "amount": "5"}
    refused = client.post(f"{sale_screen(event)}/sync", json={"operations": [good_here, bad]})
    assert refused.status_code == 400
    assert refused.get_json()["operation"] == bad["id"]
    assert count(db, ClientOperation) == 0
    elsewhere = {"id": str(uuid.uuid4()), "type": "donation", "amount": "3"}
    accepted = client.post(f"{sale_screen(other_event)}/sync", json={"operations": [elsewhere]})
    assert accepted.status_code == 200
    assert [result["status"] for result in accepted.get_json()["results"]] == ["done"]
    again = client.post(f"{sale_screen(event)}/sync", json={"operations": [good_here]})
    assert again.status_code == 200
    assert db.session.scalars(sa.select(Sale.event_id).order_by(Sale.id)).all() == [
        other_event.id,
        event.id,
    ]


def test_pseudo_currencies_and_zones_that_are_no_place_are_refused():
    """Found probing: a sync donation in "XTS" and events in "localtime" were stored."""
    from stallapp.money import is_valid_currency
    from stallapp.times import is_valid_timezone

    assert [code for code in ("GBP", "XOF", "XTS", "XXX", "XAU") if is_valid_currency(code)] == [
        "GBP",
        "XOF",
    ]
    names = ("Europe/Rome", "UTC", "localtime", "Factory", "EST5EDT", "posixrules", "Etc/GMT+5")
    assert [name for name in names if is_valid_timezone(name)] == ["Europe/Rome", "UTC"]


def test_an_address_with_spaces_around_it_is_taken(client, make_user, mail):
    """Phone keyboards add a space after a suggested address."""
    user = make_user(email="spaced@example.org")
    response = client.post("/forgot-password", data={"email": f"  {user.email} "})
    assert response.status_code == 200
    assert [message.to for message in mail] == ["spaced@example.org"]
