"""The event report reconciles with the ledger: every total of a stall built through the same
service functions the screens use."""

import csv
import io

import pytest
import sqlalchemy as sa

from stallapp.reports import closeout
from stallapp.reports import event_report as event_reports
from stallapp.reports.figures import title_figures
from stallapp.sales import screen as sale_screen
from stallapp.sales.models import PaymentMethod, SaleKind
from stallapp.stock import services as stock
from stallapp.stock.models import Place, StockMovement
from tests.builders import add_outreach, add_rota, build_stall


@pytest.fixture
def stall(db, uk, organiser, member, event):
    return build_stall(db, uk, organiser, member, event)


def figures_by_key(stall, figures):
    ids = {publication.id: key for key, publication in stall.titles.items()}
    return {ids[figure.publication_id]: figure for figure in figures}


def close(db, stall, counts, cash):
    closeout.close_out(
        db.session,
        stall.event,
        stall.organiser,
        stall.store,
        {stall.titles[key].id: copies for key, copies in counts.items()},
        cash,
    )
    db.session.commit()


STANDARD_COUNT = {"journal": 15, "aurora": 18, "book": 3, "pamphlet": 0}
STANDARD_CASH = [
    closeout.CashEntry("GBP", float_amount=2000, counted_amount=6750, note="£0.50 short"),
    closeout.CashEntry("EUR", float_amount=0, counted_amount=500),
]


def test_stock_per_title_before_the_close_out(db, stall):
    figures = figures_by_key(stall, title_figures(db.session, stall.event))
    journal, aurora, book, pamphlet = (
        figures[k] for k in ("journal", "aurora", "book", "pamphlet")
    )
    # 3 + 1 in euros; the 2 sold by mistake were undone.
    assert (journal.packed, journal.sold, journal.given_away, journal.left) == (20, 4, 0, 16)
    # The free title: 10 given, and 2 tapped as a sale are given away too.
    assert (aurora.packed, aurora.sold, aurora.given_away, aurora.left) == (30, 0, 12, 18)
    assert (book.packed, book.sold, book.left) == (5, 2, 3)
    # Sold beyond what was packed: the ledger goes below zero and says so.
    assert (pamphlet.packed, pamphlet.sold, pamphlet.left) == (2, 3, -1)
    # Every figure matches the ledger's own level at the event.
    levels = stock.event_levels(db.session, stall.event)
    for key, figure in figures.items():
        assert figure.left == levels[stall.titles[key].id], key
        assert figure.returned == figure.unaccounted == 0


def test_sold_copies_match_the_sale_lines(db, stall):
    takings = {
        (t.title, t.currency): (t.copies, t.amount)
        for t in event_reports.title_takings(db.session, stall.event)
    }
    assert takings == {
        ("1917", "GBP"): (2, 2200),
        ("Bordiga", "GBP"): (3, 600),
        ("Revolutionary Perspectives 23", "EUR"): (1, 500),
        ("Revolutionary Perspectives 23", "GBP"): (3, 1200),
    }
    figures = {f.title: f for f in title_figures(db.session, stall.event)}
    for title in ("1917", "Bordiga", "Revolutionary Perspectives 23"):
        copies = sum(n for (t, _c), (n, _a) in takings.items() if t == title)
        assert figures[title].sold == copies
    # The sale screen's own running totals agree.
    items = sale_screen.items_out(db.session, stall.event)
    assert items[Place.SOLD] == sum(f.sold for f in figures.values())
    assert items[Place.GIVEN_AWAY] == sum(f.given_away for f in figures.values())


def test_money_per_currency_and_payment_method(db, stall):
    money = {
        (m.currency, m.kind, m.payment_method): (m.count, m.amount)
        for m in event_reports.money_rows(db.session, stall.event)
    }
    assert money == {
        ("GBP", SaleKind.SALE, PaymentMethod.CASH): (3, 1200 + 1000 + 600),
        ("GBP", SaleKind.SALE, PaymentMethod.CARD): (1, 1200),
        ("EUR", SaleKind.SALE, PaymentMethod.CASH): (1, 500),
        ("GBP", SaleKind.DONATION, PaymentMethod.CASH): (1, 500),
        ("GBP", SaleKind.DONATION, PaymentMethod.CARD): (1, 300),
        ("GBP", SaleKind.SUBSCRIPTION, PaymentMethod.CASH): (1, 1500),
        ("EUR", SaleKind.SUBSCRIPTION, PaymentMethod.OTHER): (1, 2400),
    }
    # Sales money per title adds up to the sales money per currency.
    takings = event_reports.title_takings(db.session, stall.event)
    for currency in ("GBP", "EUR"):
        assert sum(t.amount for t in takings if t.currency == currency) == sum(
            amount
            for (cur, kind, _m), (_n, amount) in money.items()
            if cur == currency and kind == SaleKind.SALE
        )
    # And it matches what the sale screen shows.
    screen = {
        (t.currency, t.kind, t.payment_method): t.amount
        for t in sale_screen.money_totals(db.session, stall.event)
    }
    assert screen == {key: amount for key, (_n, amount) in money.items()}
    subscriptions = [
        (s.name, s.currency, s.count, s.amount)
        for s in event_reports.subscription_rows(db.session, stall.event)
    ]
    assert subscriptions == [("Joint sub", "EUR", 1, 2400), ("Joint sub", "GBP", 1, 1500)]


def test_cash_expected_is_float_plus_cash_takings(db, stall):
    assert closeout.cash_taken(db.session, stall.event) == {
        "GBP": 1200 + 1000 + 600 + 500 + 1500,
        "EUR": 500,
    }
    assert closeout.cash_currencies(db.session, stall.event) == ["EUR", "GBP"]
    close(db, stall, STANDARD_COUNT, STANDARD_CASH)
    cash = {
        c.currency: c
        for c in event_reports.cash_rows(
            db.session, stall.event, closeout.close_out_of(db.session, stall.event)
        )
    }
    assert (cash["GBP"].float_amount, cash["GBP"].taken, cash["GBP"].expected) == (2000, 4800, 6800)
    assert (cash["GBP"].counted, cash["GBP"].difference, cash["GBP"].note) == (
        6750,
        -50,
        "£0.50 short",
    )
    assert (cash["EUR"].expected, cash["EUR"].counted, cash["EUR"].difference) == (500, 500, 0)


def test_close_out_books_returns_and_unaccounted_copies(db, stall):
    close(db, stall, STANDARD_COUNT, STANDARD_CASH)
    figures = figures_by_key(stall, title_figures(db.session, stall.event))
    assert (figures["journal"].returned, figures["journal"].unaccounted) == (15, 1)
    assert (figures["aurora"].returned, figures["aurora"].unaccounted) == (18, 0)
    assert (figures["book"].returned, figures["book"].unaccounted) == (3, 0)
    # One more Bordiga sold than packed: none came back and the count books it as turned up.
    assert (figures["pamphlet"].returned, figures["pamphlet"].unaccounted) == (0, -1)
    assert all(figure.left == 0 for figure in figures.values())
    assert stock.event_levels(db.session, stall.event) == {
        publication.id: 0 for publication in stall.titles.values()
    }
    # The copies are back in the store the organiser chose.
    store = stock.store_levels(db.session, stall.group)
    assert store[(stall.store.id, stall.titles["journal"].id)] == 100 - 20 + 15
    assert store[(stall.store.id, stall.titles["aurora"].id)] == 200 - 30 + 18
    assert store[(stall.store.id, stall.titles["book"].id)] == 20 - 5 + 3
    assert store[(stall.store.id, stall.titles["pamphlet"].id)] == 10 - 2
    # The count is kept with what the ledger expected.
    close_out = closeout.close_out_of(db.session, stall.event)
    counts = closeout.current_counts(db.session, close_out)
    assert {(c.expected, c.counted) for c in counts.values()} == {
        (16, 15),
        (18, 18),
        (3, 3),
        (-1, 0),
    }


def test_event_report_totals(db, stall):
    add_outreach(db, stall)
    add_rota(db, stall)
    close(db, stall, STANDARD_COUNT, STANDARD_CASH)
    report = event_reports.event_report(db.session, stall.event)
    assert report.totals == {
        "packed": 57,
        "sold": 4 + 2 + 3,
        "given_away": 12,
        "returned": 36,
        "unaccounted": 0,
    }
    assert (
        report.totals["packed"]
        - report.totals["sold"]
        - report.totals["given_away"]
        - report.totals["returned"]
        - report.totals["unaccounted"]
        == 0
    )
    # Only the reader who came through the table card and confirmed the address: the stall's
    # subscriber and the table card's second sign-up have not confirmed theirs yet.
    assert report.outreach == event_reports.Outreach(
        sign_ups=1, sign_ups_by_qr=1, registrations=2, qr_scans=3
    )
    assert report.qr_codes == [("leaflet", 0), ("table card", 3)]
    staff = {s.name: (s.shifts, s.minutes) for s in report.staff}
    assert staff == {stall.member.name: (2, 7 * 60), stall.organiser.name: (1, 3 * 60)}
    assert report.staff[0].hours in (7.0, 3.0)


def test_undone_sale_leaves_no_trace_in_any_total(db, stall):
    """The mistaken 2 journals: sold then undone, in the ledger, the lines and the money."""
    reversed_rows = db.session.scalar(
        sa.select(sa.func.count(StockMovement.id)).where(
            StockMovement.reverses_id.is_not(None), StockMovement.from_place == Place.SOLD
        )
    )
    assert reversed_rows == 1
    figures = figures_by_key(stall, title_figures(db.session, stall.event))
    assert figures["journal"].sold == 4
    gbp_cash_sales = [
        m.amount
        for m in event_reports.money_rows(db.session, stall.event)
        if m.currency == "GBP"
        and m.kind == SaleKind.SALE
        and m.payment_method == PaymentMethod.CASH
    ]
    assert gbp_cash_sales == [2800]


def read_csv(response) -> list[list[str]]:
    """The rows of a CSV download, after checking the format every download shares."""
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")  # a spreadsheet opens the accents right
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    return list(csv.reader(io.StringIO(body[1:])))


def test_csv_tables(client, login_as, db, stall):
    close(db, stall, STANDARD_COUNT, STANDARD_CASH)
    login_as(stall.organiser)
    base = f"/groups/{stall.group.slug}/reports/events/{stall.event.id}"
    rows = read_csv(client.get(f"{base}/titles.csv"))
    assert rows[0] == ["title", "packed", "sold", "given_away", "returned", "unaccounted", "left"]
    assert ["Bordiga", "2", "3", "0", "0", "-1", "0"] in rows
    response = client.get(f"{base}/cash.csv")
    cash = read_csv(response)
    assert cash[0] == [
        "currency",
        "float",
        "cash_taken",
        "expected",
        "counted",
        "difference",
        "note",
    ]
    assert ["GBP", "20.00", "48.00", "68.00", "67.50", "-0.50", "£0.50 short"] in cash
    # Money is a number: a shortfall stays negative, with no apostrophe and no quotes.
    assert b"GBP,20.00,48.00,68.00,67.50,-0.50," in response.data
    money = read_csv(client.get(f"{base}/money.csv"))
    assert ["EUR", "subscription", "other", "1", "24.00"] in money
    staff = read_csv(client.get(f"{base}/staff.csv"))
    assert staff[0] == ["member", "shifts", "hours"]
    for table in ("takings", "subscriptions", "outreach"):
        assert read_csv(client.get(f"{base}/{table}.csv"))[1:]
    assert client.get(f"{base}/nonsense.csv").status_code == 404


def test_report_page_shows_the_figures_and_a_chart(client, login_as, db, stall):
    close(db, stall, STANDARD_COUNT, STANDARD_CASH)
    login_as(stall.organiser)
    response = client.get(f"/groups/{stall.group.slug}/reports/events/{stall.event.id}")
    assert response.status_code == 200
    page = response.data.decode()
    assert "<svg" in page and "Bordiga" in page and "£68.00" in page and "£67.50" in page
    assert "style=" not in page
    assert "Closed out" in page


def test_titles_csv_refuses_spreadsheet_formulas(
    client, login_as, db, uk, organiser, member, event
):
    store = stock.create_store(db.session, uk, "Lock-up")
    title = stock.create_publication(
        db.session,
        uk,
        stock.PublicationData(
            title="=HYPERLINK(1)", kind="leaflet", language="en", prices={"GBP": 10}
        ),
    )
    stock.receive(db.session, store, title, 5, organiser, "")
    stock.pack_for_event(db.session, store, event, {title: 5}, organiser)
    db.session.commit()
    login_as(organiser)
    response = client.get(f"/groups/uk/reports/events/{event.id}/titles.csv")
    assert read_csv(response)[1][0] == "'=HYPERLINK(1)"
    assert "\r\n'=HYPERLINK(1),5,0,0,0,0,5\r\n" in response.data.decode("utf-8")
