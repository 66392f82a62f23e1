"""Members racing for the last place: the database decides, exactly one wins.

Each thread is a separate phone: its own test client, so its own app context, database session
and connection. They are all released at once by a barrier.
"""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from stallapp.rota import cover, shifts
from stallapp.rota.models import Assignment, CoverRequest, ShiftRole
from tests.builders import event_row
from tests.conftest import PASSWORD

#: Row locks are what this tests: PostgreSQL only (SQLite serialises writers anyway).
pytestmark = pytest.mark.backends("postgresql")

RACERS = 6


def _race(app, users, url) -> list[str]:
    """Log each user in on their own phone (thread), then have them all tap ``url`` at once."""
    emails = [user.email for user in users]
    barrier = threading.Barrier(len(emails))
    answers: list[str] = [""] * len(emails)

    def tap(index, email):
        # Outside the test's app context: every request gets its own context and session.
        phone = FlaskClient(app, app.response_class, use_cookies=True)
        login = phone.post("/login", data={"email": email, "password": PASSWORD})
        assert login.status_code == 302
        barrier.wait()
        response = phone.post(url, follow_redirects=True)
        answers[index] = response.get_data(as_text=True)

    threads = [threading.Thread(target=tap, args=(i, e)) for i, e in enumerate(emails)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_many_members_one_last_place(app, db, make_group, make_user):
    uk = make_group(slug="uk")
    event = event_row(db.session, uk)
    shift = shifts.add_shift(
        db.session, event, ShiftRole.STAFFING, event.starts_at, event.ends_at, people_needed=2
    )
    shifts.sign_up(db.session, shift, make_user(groups={uk: "member"}))
    db.session.commit()
    members = [make_user(groups={uk: "member"}) for _ in range(RACERS)]
    db.session.commit()

    answers = _race(app, members, f"/groups/uk/rota/shifts/{shift.id}/sign-up")

    won = [a for a in answers if "You are on “Staffing" in a]
    lost = [a for a in answers if "That shift has just been filled." in a]
    assert (len(won), len(lost)) == (1, RACERS - 1)
    db.session.expire_all()
    active = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Assignment)
        .where(Assignment.shift_id == shift.id, Assignment.withdrawn_at.is_(None))
    )
    assert active == 2


def test_service_level_race_raises_shift_full_for_all_but_one(app, db, make_group, make_user):
    uk = make_group(slug="uk")
    event = event_row(db.session, uk)
    shift = shifts.add_shift(
        db.session, event, ShiftRole.SETUP, event.starts_at - timedelta(hours=1), event.starts_at
    )
    db.session.commit()
    members = [make_user(groups={uk: "member"}) for _ in range(RACERS)]
    ids = [member.id for member in members]
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []

    def take(user_id):
        from stallapp.accounts.models import User
        from stallapp.rota.models import Shift

        with app.app_context():
            session = db.session
            user, racing_shift = session.get(User, user_id), session.get(Shift, shift.id)
            session.commit()
            barrier.wait()
            try:
                shifts.sign_up(session, racing_shift, user)
                session.commit()
                outcomes.append("ok")
            except shifts.ShiftFull as error:
                session.rollback()
                outcomes.append(error.code)
            finally:
                session.remove()

    threads = [threading.Thread(target=take, args=(user_id,)) for user_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok"] + ["shift_full"] * (RACERS - 1)


def test_two_members_take_the_same_cover_at_once(app, db, make_group, make_user):
    uk = make_group(slug="uk")
    event = event_row(db.session, uk)
    shift = shifts.add_shift(
        db.session, event, ShiftRole.STAFFING, event.starts_at, event.ends_at, people_needed=1
    )
    asker = make_user(groups={uk: "member"})
    place = shifts.sign_up(db.session, shift, asker)
    request, _ = cover.ask_for_cover(db.session, place, "")
    db.session.commit()
    takers = [make_user(groups={uk: "member"}) for _ in range(4)]
    db.session.commit()

    answers = _race(app, takers, f"/groups/uk/rota/cover/{request.id}")

    assert sum("Thank you!" in a for a in answers) == 1
    assert sum("Someone has just taken that shift over." in a for a in answers) == 3
    db.session.expire_all()
    active = db.session.scalars(
        sa.select(Assignment.user_id).where(
            Assignment.shift_id == shift.id, Assignment.withdrawn_at.is_(None)
        )
    ).all()
    assert len(active) == 1 and active[0] in {t.id for t in takers}
    assert db.session.get(CoverRequest, request.id).taken_by_id == active[0]
