"""The server-rendered sale screen: one-tap sales, give-aways, donations, subscriptions, undo."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from stallapp.contacts.models import Contact
from stallapp.database import utcnow
from stallapp.errors import EventClosed, NotAllowed
from stallapp.sales import till as tills
from stallapp.sales.models import ClientOperation, PaymentMethod, Sale, SaleKind
from stallapp.sales.operations import parse_operation
from stallapp.sales.recording import Seller, may_undo, record_operations, undo_sale
from stallapp.sales.screen import items_out, money_totals
from stallapp.stock import corrections
from stallapp.stock import services as stock
from stallapp.stock.models import Place, StockMovement
from stallapp.stock.sale_catalogue import forget_kept_catalogues
from tests.sales_fixtures import screen_url, tap


@pytest.fixture
def offer(db, uk):
    created = stock.save_subscription_offer(
        db.session,
        uk,
        name="Joint subscription",
        description="3 × Revolutionary Perspectives + 4 × Aurora",
        prices={"GBP": 1500, "EUR": 2400, "USD": 3000},
    )
    db.session.commit()
    return created


def left(db, event, publication):
    return stock.event_levels(db.session, event)[publication.id]


def test_the_screen_shows_packed_titles_with_price_and_copies_left(
    client, login_as, member, event, stall
):
    login_as(member)
    page = client.get(screen_url(event)).get_data(as_text=True)
    assert "Revolutionary Perspectives" in page
    assert "£4.00" in page and "£12.00" in page
    assert "Free: give away" in page
    assert "20 left" in page and "30 left" in page and "5 left" in page


def test_one_tap_sells_one_copy_at_list_price(db, client, login_as, member, event, stall):
    login_as(member)
    response = tap(client, event, stall["book"])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sold 1 × 1917 for £12.00" in page
    sale = db.session.scalar(sa.select(Sale))
    assert (sale.kind, sale.amount, sale.currency, sale.payment_method) == (
        SaleKind.SALE,
        1200,
        "GBP",
        PaymentMethod.CASH,
    )
    assert left(db, event, stall["book"]) == 4


def test_a_double_tap_counts_once(db, client, login_as, member, event, stall):
    login_as(member)
    operation_id = str(uuid.uuid4())
    tap(client, event, stall["journal"], operation_id=operation_id)
    tap(client, event, stall["journal"], operation_id=operation_id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 1
    assert left(db, event, stall["journal"]) == 19


def test_quantity_payment_currency_and_pay_what_you_can(db, client, login_as, member, event, stall):
    login_as(member)
    tap(
        client,
        event,
        stall["book"],
        quantity="2",
        payment_method="card",
        currency="EUR",
        amount="35",
    )
    sale = db.session.scalar(sa.select(Sale))
    assert (sale.amount, sale.currency, sale.payment_method) == (3500, "EUR", PaymentMethod.CARD)
    assert sale.lines[0].unit_price == 2000
    assert left(db, event, stall["book"]) == 3


def test_a_free_title_is_given_away_without_money(db, client, login_as, member, event, stall):
    login_as(member)
    tap(client, event, stall["aurora"], type="giveaway", quantity="3")
    sale = db.session.scalar(sa.select(Sale))
    assert (sale.kind, sale.amount, sale.payment_method) == (SaleKind.GIVEAWAY, 0, None)
    assert items_out(db.session, event) == {Place.SOLD: 0, Place.GIVEN_AWAY: 3}


def test_over_selling_is_recorded_with_a_warning(db, client, login_as, member, event, stall):
    login_as(member)
    response = tap(client, event, stall["book"], quantity="7")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "recorded anyway" in page
    assert left(db, event, stall["book"]) == -2
    assert "-2 left" in client.get(screen_url(event)).get_data(as_text=True)


def test_a_donation(db, client, login_as, member, event, stall):
    login_as(member)
    client.post(
        f"{screen_url(event)}/record",
        data={
            "operation_id": str(uuid.uuid4()),
            "type": "donation",
            "amount": "5",
            "payment_method": "cash",
        },
    )
    sale = db.session.scalar(sa.select(Sale))
    assert (sale.kind, sale.amount, sale.currency) == (SaleKind.DONATION, 500, "GBP")


@pytest.mark.parametrize("amount", ["", "abc", "-5", "5.555", "999999999"])
def test_a_bad_donation_re_renders_with_a_message_and_records_nothing(
    db, client, login_as, member, event, stall, amount
):
    login_as(member)
    response = client.post(
        f"{screen_url(event)}/record",
        data={"operation_id": str(uuid.uuid4()), "type": "donation", "amount": amount},
    )
    assert response.status_code == 400
    assert 'id="donation-error"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientOperation)) == 0


def test_a_subscription_keeps_the_subscriber_only_with_consent(
    db, client, login_as, member, event, stall, offer
):
    login_as(member)
    base = {"type": "subscription", "offer_id": str(offer.id), "payment_method": "card"}
    client.post(
        f"{screen_url(event)}/record",
        data={
            **base,
            "operation_id": str(uuid.uuid4()),
            "name": "No Consent",
            "email": "no@example.org",
        },
    )
    client.post(
        f"{screen_url(event)}/record",
        data={
            **base,
            "operation_id": str(uuid.uuid4()),
            "currency": "EUR",
            "name": "Rosa",
            "email": "Rosa@Example.org",
            "consent": "y",
        },
    )
    subscriptions = db.session.scalars(sa.select(Sale).order_by(Sale.id)).all()
    assert [(s.amount, s.currency) for s in subscriptions] == [(1500, "GBP"), (2400, "EUR")]
    contacts = db.session.scalars(sa.select(Contact)).all()
    assert [(c.email, c.name, c.source_event_id) for c in contacts] == [
        ("rosa@example.org", "Rosa", event.id)
    ]
    assert contacts[0].mailing_consent_at is not None
    assert "subscriber agrees" in contacts[0].mailing_consent_text
    assert subscriptions[1].contact_id == contacts[0].id


def test_a_member_undoes_their_own_tap(db, client, login_as, member, event, stall):
    login_as(member)
    tap(client, event, stall["journal"])
    sale = db.session.scalar(sa.select(Sale))
    page = client.get(screen_url(event)).get_data(as_text=True)
    assert f"/sales/{sale.id}/undo" in page
    response = client.post(f"{screen_url(event)}/sales/{sale.id}/undo")
    assert "Undone: 1 × Revolutionary Perspectives" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    assert left(db, event, stall["journal"]) == 20
    assert money_totals(db.session, event) == []
    client.post(f"{screen_url(event)}/sales/{sale.id}/undo")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 2
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(StockMovement)
            .where(StockMovement.reverses_id.is_not(None))
        )
        == 1
    )


def test_undo_rules(db, make_user, uk, member, organiser, event, stall):
    from stallapp.accounts.models import Role

    other = make_user(groups={uk: "member"})
    seller = Seller(member, Role.MEMBER)
    [result] = record_operations(
        db.session,
        event,
        seller,
        [
            parse_operation(
                {"id": str(uuid.uuid4()), "type": "sale", "publication_id": stall["book"].id}, "GBP"
            )
        ],
    )
    sale = db.session.get(Sale, result["sale_id"])
    now = utcnow()
    assert may_undo(sale, seller, now + timedelta(minutes=14))
    assert not may_undo(sale, seller, now + timedelta(minutes=16))
    assert not may_undo(sale, Seller(other, Role.MEMBER), now)
    assert may_undo(sale, Seller(organiser, Role.ORGANISER), now + timedelta(days=30))
    with pytest.raises(NotAllowed) as late:
        undo_sale(db.session, sale, seller, now + timedelta(minutes=16))
    assert late.value.code == "undo_too_late"
    reversal = undo_sale(
        db.session, sale, Seller(organiser, Role.ORGANISER), now + timedelta(days=2)
    )
    with pytest.raises(NotAllowed) as twice:
        undo_sale(db.session, reversal, Seller(organiser, Role.ORGANISER), now)
    assert twice.value.code == "is_reversal"
    with pytest.raises(corrections.AlreadyReversed):
        undo_sale(db.session, sale, Seller(organiser, Role.ORGANISER), now)


def test_an_undo_at_a_closed_event_is_refused_until_it_is_reopened(db, member, event, stall):
    from stallapp.accounts.models import Role

    seller = Seller(member, Role.MEMBER)
    operation = {"id": str(uuid.uuid4()), "type": "sale", "publication_id": stall["book"].id}
    [result] = record_operations(db.session, event, seller, [parse_operation(operation, "GBP")])
    tills.lock_till(db.session, event).closed_at = utcnow()
    db.session.commit()
    sale = db.session.get(Sale, result["sale_id"])

    def written():
        return (
            db.session.scalar(sa.select(sa.func.count()).select_from(Sale)),
            db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)),
        )

    before = written()
    with pytest.raises(EventClosed) as refused:
        undo_sale(db.session, sale, seller, utcnow())
    assert refused.value.code == "event_closed"
    # Nothing was written, not even flushed in the transaction that was refused.
    assert written() == before
    db.session.rollback()
    assert written() == before
    assert db.session.scalar(sa.select(Sale).where(Sale.reverses_id == sale.id)) is None

    tills.lock_till(db.session, event).closed_at = None  # reopened
    db.session.commit()
    reversal = undo_sale(db.session, sale, seller, utcnow())
    db.session.commit()
    assert (reversal.reverses_id, reversal.amount) == (sale.id, sale.amount)
    assert written() == (before[0] + 1, before[1] + 1)
    assert stock.event_levels(db.session, event)[stall["book"].id] == 5


def test_totals_are_per_currency_and_payment_method(db, client, login_as, member, event, stall):
    login_as(member)
    tap(client, event, stall["journal"])
    tap(client, event, stall["journal"], payment_method="card")
    tap(client, event, stall["book"], currency="EUR")
    tap(client, event, stall["journal"])
    totals = {(t.currency, t.payment_method): t.amount for t in money_totals(db.session, event)}
    assert totals == {
        ("GBP", PaymentMethod.CASH): 800,
        ("GBP", PaymentMethod.CARD): 400,
        ("EUR", PaymentMethod.CASH): 2000,
    }
    page = client.get(screen_url(event)).get_data(as_text=True)
    assert "€20.00" in page and "£8.00" in page


def test_organiser_sets_the_main_currency(db, client, login_as, organiser, event, stall):
    login_as(organiser)
    response = client.post(
        f"{screen_url(event)}/settings", data={"main_currency": "xyz", "payment_method": "card"}
    )
    assert "Unknown currency code." in response.get_data(as_text=True)
    client.post(
        f"{screen_url(event)}/settings", data={"main_currency": "eur", "payment_method": "card"}
    )
    page = client.get(screen_url(event)).get_data(as_text=True)
    assert "€5.00" in page
    tap(client, event, stall["journal"])
    sale = db.session.scalar(sa.select(Sale))
    assert (sale.amount, sale.currency, sale.payment_method) == (500, "EUR", PaymentMethod.CARD)


def test_a_closed_event_takes_no_sales(db, client, login_as, member, event, stall):
    till = tills.lock_till(db.session, event)
    till.closed_at = utcnow()
    db.session.commit()
    login_as(member)
    response = tap(client, event, stall["journal"])
    assert "closed out" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 0


def test_another_groups_event_is_not_found(client, login_as, member, make_group, make_event, stall):
    other_event = make_event(make_group(slug="nyc", currency="USD"))
    login_as(member)
    assert client.get(f"/groups/uk/sell/{other_event.id}").status_code == 404
    assert tap(client, other_event, stall["journal"]).status_code == 404


def test_the_screen_costs_the_same_queries_with_more_sales_and_titles(
    db,
    client,
    login_as,
    member,
    uk,
    store,
    organiser,
    event,
    stall,
    make_publication,
    count_statements,
):
    login_as(member)
    tap(client, event, stall["journal"])
    forget_kept_catalogues()
    with count_statements() as few_cold:
        assert client.get(screen_url(event)).status_code == 200
    with count_statements() as few:
        assert client.get(screen_url(event)).status_code == 200
    extra = [make_publication(uk, f"Pamphlet {n}", {"GBP": 100 + n}) for n in range(6)]
    for publication in extra:
        stock.receive(db.session, store, publication, 10, organiser, "")
    stock.pack_for_event(db.session, store, event, dict.fromkeys(extra, 2), organiser)
    db.session.commit()
    for publication in extra:
        tap(client, event, publication)
        tap(client, event, publication, type="giveaway")
    # The new titles changed the catalogue: the next load reads it again, the one after not.
    with count_statements() as many_cold:
        assert client.get(screen_url(event)).status_code == 200
    with count_statements() as many:
        assert client.get(screen_url(event)).status_code == 200
    assert many.count == few.count < few_cold.count == many_cold.count


def test_a_bad_subscriber_email_re_renders_the_form_and_records_nothing(
    db, client, login_as, member, event, stall, offer
):
    login_as(member)
    response = client.post(
        f"{screen_url(event)}/record",
        data={
            "operation_id": str(uuid.uuid4()),
            "type": "subscription",
            "offer_id": str(offer.id),
            "name": "Rosa",
            "email": "rosa-at-example",
            "consent": "y",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "That email address does not look right." in page
    assert 'value="rosa-at-example"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
