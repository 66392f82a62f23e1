"""The demo data's rota: shifts with gaps on the seed's events, loaded once however often."""

import sqlalchemy as sa

from stallapp.demo import load_demo_data
from stallapp.events.models import Event
from stallapp.rota import lists
from stallapp.rota.models import Assignment, Shift


def test_demo_rota_has_gaps_and_max_on_peterborough_and_loads_once(db):
    load_demo_data(db.session)
    db.session.commit()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Shift))
    load_demo_data(db.session)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shift)) == count

    peterborough = db.session.scalar(
        sa.select(Event).where(Event.title == "Peterborough Radical Bookfair")
    )
    rota = lists.event_rota(db.session, peterborough)
    assert len(rota) == 7
    assert any(s.filled < s.people_needed for s in rota)  # gaps to fill
    max_places = db.session.scalars(
        sa.select(Assignment)
        .join(Shift)
        .where(Shift.event_id == peterborough.id)
        .where(Assignment.user.has(email="member@example.org"))
    ).all()
    assert len(max_places) == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Shift).where(Shift.event_id != peterborough.id)
        )
        > 0
    )
