"""send-reminders: once per assignment however often it runs; organisers told of gaps once."""

from datetime import timedelta

import sqlalchemy as sa

from stallapp.database import utcnow
from stallapp.rota import shifts
from stallapp.rota.models import ReminderSent, ShiftRole
from tests.builders import event_row


def _shift(db, event, needed):
    shift = shifts.add_shift(
        db.session, event, ShiftRole.STAFFING, event.starts_at, event.ends_at, people_needed=needed
    )
    db.session.commit()
    return shift


def test_reminders_go_once_per_assignment(runner, db, make_group, make_user, mail):
    uk = make_group(slug="uk")
    organiser = make_user(email="olive@example.org", groups={uk: "organiser"})
    max_ = make_user(email="max@example.org", name="Max", groups={uk: "member"})
    ann = make_user(email="ann@example.org", name="Ann", groups={uk: "member"})
    tomorrow = event_row(db.session, uk, title="Tomorrow", starts_at=utcnow() + timedelta(hours=30))
    today = event_row(db.session, uk, title="Today", starts_at=utcnow() + timedelta(hours=5))
    next_week = event_row(db.session, uk, title="Next week", starts_at=utcnow() + timedelta(days=7))
    soon = _shift(db, tomorrow, needed=2)
    shifts.sign_up(db.session, soon, max_)
    shifts.sign_up(db.session, soon, ann)
    shifts.sign_up(db.session, _shift(db, today, needed=1), max_)
    shifts.sign_up(db.session, _shift(db, next_week, needed=1), ann)
    withdrawn = shifts.sign_up(
        db.session,
        _shift(
            db,
            event_row(db.session, uk, title="Withdrawn", starts_at=utcnow() + timedelta(hours=40)),
            needed=1,
        ),
        ann,
    )
    shifts.withdraw(db.session, withdrawn, "away")
    db.session.commit()

    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Sent 2 shift reminders." in result.output
    reminders = [m for m in mail if m.subject.startswith("Reminder")]
    assert sorted(m.to for m in reminders) == ["ann@example.org", "max@example.org"]
    assert all("Tomorrow" in m.subject for m in reminders)
    max_mail = next(m for m in reminders if m.to == "max@example.org")
    assert "With: Ann" in max_mail.body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderSent)) == 2

    mail.clear()
    result = runner.invoke(args=["send-reminders"])
    assert "Sent 0 shift reminders." in result.output
    assert [m for m in mail if m.subject.startswith("Reminder")] == []
    assert organiser.email == "olive@example.org"


def test_organisers_hear_about_short_shifts_within_three_days_once(
    runner, db, make_group, make_user, mail
):
    uk = make_group(slug="uk", name="CWO (UK)")
    make_user(email="olive@example.org", groups={uk: "organiser"})
    member = make_user(groups={uk: "member"})
    short = _shift(
        db, event_row(db.session, uk, title="Short", starts_at=utcnow() + timedelta(hours=50)), 2
    )
    shifts.sign_up(db.session, short, member)
    full = _shift(
        db, event_row(db.session, uk, title="Full", starts_at=utcnow() + timedelta(hours=20)), 1
    )
    shifts.sign_up(db.session, full, make_user(groups={uk: "member"}))
    _shift(db, event_row(db.session, uk, title="Far", starts_at=utcnow() + timedelta(days=5)), 3)
    db.session.commit()

    result = runner.invoke(args=["send-reminders"])
    assert "Told 1 organisers about 1 shifts still short." in result.output
    (notice,) = [m for m in mail if m.subject.startswith("Shifts still short")]
    assert notice.to == "olive@example.org"
    assert "Short" in notice.body and "1 of 2" in notice.body
    assert "Full" not in notice.body and "Far" not in notice.body

    mail.clear()
    result = runner.invoke(args=["send-reminders"])
    assert "Told 0 organisers about 0 shifts still short." in result.output
    assert mail == []
