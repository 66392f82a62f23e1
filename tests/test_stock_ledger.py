"""The stock ledger: movements, levels as SQL sums, reversals, counts, packing; append-only."""

import pytest
import sqlalchemy as sa

from stallapp.errors import NotAllowed, ValidationFailed
from stallapp.stock import corrections
from stallapp.stock import services as stock
from stallapp.stock.models import Place, StockMovement


@pytest.fixture
def journal(make_publication, uk):
    return make_publication(uk)


def test_levels_are_sums_of_movements(db, uk, organiser, store, journal):
    lockup = stock.create_store(db.session, uk, "Lock-up")
    stock.receive(db.session, store, journal, 100, organiser, "print run")
    stock.move_between_stores(db.session, store, lockup, journal, 30, organiser)
    stock.write_off(db.session, store, journal, 4, organiser, "water damage")
    db.session.commit()
    assert stock.store_level(db.session, store, journal) == 66
    assert stock.store_level(db.session, lockup, journal) == 30
    assert stock.store_levels(db.session, uk) == {
        (store.id, journal.id): 66,
        (lockup.id, journal.id): 30,
    }
    assert stock.totals_by_publication(stock.store_levels(db.session, uk)) == {journal.id: 96}


def test_levels_take_one_query_whatever_the_data(
    db, uk, organiser, store, journal, count_statements
):
    for copies in range(1, 30):
        stock.receive(db.session, store, journal, copies, organiser, "")
    db.session.commit()
    expected = {(store.id, journal.id): sum(range(1, 30))}
    assert uk.id
    with count_statements() as counter:
        levels = stock.store_levels(db.session, uk)
    assert levels == expected
    assert [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")] == [
        counter.statements[-1]
    ]


def test_a_reversal_undoes_a_movement_once(db, uk, organiser, store, journal):
    received = stock.receive(db.session, store, journal, 50, organiser, "typo: was 5")
    db.session.commit()
    reversal = corrections.reverse_movement(db.session, received, organiser)
    db.session.commit()
    assert reversal.reverses_id == received.id
    assert (reversal.from_place, reversal.to_place) == (Place.STORE, Place.OUTSIDE)
    assert stock.store_level(db.session, store, journal) == 0
    with pytest.raises(corrections.AlreadyReversed):
        corrections.reverse_movement(db.session, received, organiser)
    with pytest.raises(NotAllowed) as refused:
        corrections.reverse_movement(db.session, reversal, organiser)
    assert refused.value.code == "is_reversal"
    db.session.rollback()
    assert stock.store_level(db.session, store, journal) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)) == 2


def test_a_count_books_the_difference_with_its_reason(db, uk, organiser, store, journal):
    stock.receive(db.session, store, journal, 20, organiser, "")
    short = corrections.record_count(db.session, store, journal, 17, organiser, "yearly count")
    assert (short.quantity, short.from_place, short.to_place) == (3, Place.STORE, Place.ADJUSTMENT)
    assert "yearly count" in short.note
    extra = corrections.record_count(db.session, store, journal, 19, organiser, "found a box")
    assert (extra.quantity, extra.from_place, extra.to_place) == (2, Place.ADJUSTMENT, Place.STORE)
    assert corrections.record_count(db.session, store, journal, 19, organiser, "again") is None
    assert stock.store_level(db.session, store, journal) == 19
    with pytest.raises(ValidationFailed):
        corrections.record_count(db.session, store, journal, -1, organiser, "")


@pytest.mark.parametrize("quantity", [0, -3, 1.5, True, "2", 10**9])
def test_quantities_are_positive_whole_numbers(db, organiser, store, journal, quantity):
    with pytest.raises(ValidationFailed) as refused:
        stock.receive(db.session, store, journal, quantity, organiser, "")
    assert refused.value.code == "quantity"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)) == 0


def test_stock_cannot_move_to_another_groups_store(db, make_group, organiser, store, journal):
    other = make_group(slug="nyc", currency="USD")
    theirs = stock.create_store(db.session, other, "Their room")
    with pytest.raises(ValidationFailed) as refused:
        stock.move_between_stores(db.session, store, theirs, journal, 1, organiser)
    assert refused.value.code == "other_group"
    with pytest.raises(ValidationFailed) as same:
        stock.move_between_stores(db.session, store, store, journal, 1, organiser)
    assert same.value.code == "same_place"


def test_packing_and_returning(db, uk, organiser, store, event, stall):
    levels = stock.event_levels(db.session, event)
    assert levels == {stall["journal"].id: 20, stall["aurora"].id: 30, stall["book"].id: 5}
    assert stock.store_level(db.session, store, stall["journal"]) == 80
    with pytest.raises(ValidationFailed) as nothing:
        stock.pack_for_event(db.session, store, event, {stall["journal"]: 0}, organiser)
    assert nothing.value.code == "nothing_packed"
    returned = stock.return_from_event(db.session, event, store, organiser)
    db.session.commit()
    assert sum(m.quantity for m in returned) == 55
    assert set(stock.event_levels(db.session, event).values()) == {0}
    assert stock.store_level(db.session, store, stall["journal"]) == 100


def test_the_orm_refuses_to_change_or_delete_a_movement(db, organiser, store, journal):
    movement = stock.receive(db.session, store, journal, 5, organiser, "")
    db.session.commit()
    movement.quantity = 6
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(movement)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_no_service_ever_updates_or_deletes_a_movement(
    db, uk, organiser, member, store, event, stall, count_statements, client, login_as
):
    """Run every ledger-writing path, watching the SQL: stock_movement only ever gets INSERTs."""
    from stallapp.accounts.models import Role
    from stallapp.sales import operations as sale_operations
    from stallapp.sales import recording as sale_recording

    with count_statements() as counter:
        lockup = stock.create_store(db.session, uk, "Lock-up")
        moved = stock.move_between_stores(db.session, store, lockup, stall["book"], 2, organiser)
        stock.write_off(db.session, lockup, stall["book"], 1, organiser, "torn")
        corrections.record_count(db.session, store, stall["book"], 10, organiser, "count")
        corrections.reverse_movement(db.session, moved, organiser)
        seller = sale_recording.Seller(member, Role.MEMBER)
        ops = [
            sale_operations.parse_operation(
                {"id": sales_id, "type": "sale", "publication_id": stall["journal"].id}, "GBP"
            )
            for sales_id in (
                "0c5e3d52-4ad3-4b55-9a53-2bb0cfa1a001",
                "0c5e3d52-4ad3-4b55-9a53-2bb0cfa1a002",
            )
        ]
        sale_recording.record_operations(db.session, event, seller, ops)
        undo = sale_operations.parse_operation(
            {"id": "0c5e3d52-4ad3-4b55-9a53-2bb0cfa1a003", "type": "undo", "target": ops[0].id},
            "GBP",
        )
        [result] = sale_recording.record_operations(db.session, event, seller, [undo])
        assert result["status"] == "done"
        stock.return_from_event(db.session, event, store, organiser)
        db.session.commit()
    writes = [
        s
        for s in counter.statements
        if "stock_movement" in s and not s.lstrip().upper().startswith(("SELECT", "INSERT", "WITH"))
    ]
    assert writes == []
    assert any(
        s.lstrip().upper().startswith("INSERT INTO STOCK_MOVEMENT") for s in counter.statements
    )
