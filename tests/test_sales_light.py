"""A light sale screen: the benchmark's group (200 titles, 10 packed) in at most 40 KB of HTML,
with as many statements for 20 titles as for 200, and the titles not packed behind one picker."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bench.dataset import load_history
from stallapp.events.models import Event
from stallapp.sales.models import Sale
from stallapp.stock import services as stock
from stallapp.stock.models import Publication, Store
from tests.builders import event_row

#: The issue's target for the benchmark group's sale screen.
MAX_HTML_BYTES = 40 * 1024


def bench_stall(db, group, organiser, titles: int) -> Event:
    """The benchmark's group with ``titles`` titles and a stall happening now, packed with ten
    of them (as ``bench/run.py`` builds it), with a few sales recorded."""
    history = load_history(db.session, group, organiser, events=5, titles=titles, lines=200)
    now = datetime.now(UTC)
    stall = event_row(
        db.session,
        group,
        title="Bench stall",
        starts_at=now - timedelta(hours=1),
        venue_name=None,
        address=None,
    )
    store = db.session.get(Store, history.store_ids[0])
    packed = db.session.scalars(
        sa.select(Publication)
        .where(Publication.group_id == group.id, Publication.is_free.is_(False))
        .order_by(Publication.id)
        .limit(10)
    ).all()
    stock.pack_for_event(db.session, store, stall, dict.fromkeys(packed, 50), organiser)
    db.session.commit()
    return stall


def sell(client, stall, publication_id: int) -> None:
    response = client.post(
        f"/groups/uk/sell/{stall.id}/record",
        data={
            "operation_id": str(uuid.uuid4()),
            "type": "sale",
            "publication_id": str(publication_id),
        },
    )
    assert response.status_code == 302


@pytest.fixture
def big_stall(db, uk, organiser):
    return bench_stall(db, uk, organiser, titles=200)


def test_the_benchmark_groups_sale_screen_is_at_most_40_kb(db, client, login_as, member, big_stall):
    login_as(member)
    packed = list(stock.event_levels(db.session, big_stall))
    for publication_id in packed[:8]:
        sell(client, big_stall, publication_id)
    page = client.get(f"/groups/uk/sell/{big_stall.id}").get_data()
    assert len(page) <= MAX_HTML_BYTES, len(page)
    html = page.decode()
    # Ten one-tap tiles; every other title is one option of the one picker.
    assert html.count('class="tile-button"') == 10
    picker = html.split('id="title-picker"', 1)[1].split("</select>", 1)[0]
    assert len(re.findall(r"<option value=\"\d+\"", picker)) == 200
    # Forms: the ten tiles, the picker, donation, subscription, logout and an undo per sale.
    assert html.count("<form") <= 10 + 4 + 8


def test_the_statement_count_does_not_grow_with_the_catalogue(
    db, app, client, login_as, make_group, make_user, count_statements
):
    counts = {}
    for titles in (20, 200):
        group = make_group(slug=f"g{titles}")
        organiser = make_user(groups={group: "organiser"})
        seller = make_user(groups={group: "member"})
        stall = bench_stall(db, group, organiser, titles)
        login_as(seller)
        packed = list(stock.event_levels(db.session, stall))
        for publication_id in packed[:3]:
            response = client.post(
                f"/groups/{group.slug}/sell/{stall.id}/record",
                data={
                    "operation_id": str(uuid.uuid4()),
                    "type": "sale",
                    "publication_id": str(publication_id),
                },
            )
            assert response.status_code == 302
        client.get(f"/groups/{group.slug}/sell/{stall.id}")
        with count_statements() as counter:
            assert client.get(f"/groups/{group.slug}/sell/{stall.id}").status_code == 200
        counts[titles] = counter.count
        client.post("/logout")
    assert counts[20] == counts[200], counts
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sale)) >= 6
