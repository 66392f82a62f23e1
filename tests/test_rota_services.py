"""Rota rules called directly: overlaps across zones and DST, the stall-day template, places."""

from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from stallapp.database import utcnow
from stallapp.errors import StallError
from stallapp.rota import cover, emails, lists, shifts, unavailability
from stallapp.rota.models import Assignment, ShiftRole
from stallapp.times import local_to_utc
from tests.builders import event_row

UTC = ZoneInfo("UTC")


@pytest.fixture
def uk(make_group):
    return make_group(slug="uk", timezone="Europe/London")


@pytest.fixture
def nyc(make_group):
    return make_group(slug="nyc", timezone="America/New_York", currency="USD")


def _shift(db, event, starts_at=None, ends_at=None, needed=1, role=ShiftRole.STAFFING):
    shift = shifts.add_shift(
        db.session,
        event,
        role,
        starts_at or event.starts_at,
        ends_at or event.ends_at,
        people_needed=needed,
    )
    db.session.commit()
    return shift


def _error_code(call) -> str:
    with pytest.raises(StallError) as raised:
        call()
    return raised.value.code


def _next_day_where(zone: str, predicate) -> datetime:
    """Return the first future local midnight (naive) of a day on which ``predicate`` holds."""
    day = utcnow().date() + timedelta(days=2)
    for _ in range(800):
        if predicate(day, ZoneInfo(zone)):
            return datetime(day.year, day.month, day.day)
        day += timedelta(days=1)
    raise AssertionError("no such day within two years")


def _springs_forward(day, zone) -> bool:
    before = datetime(day.year, day.month, day.day, 0, tzinfo=zone).utcoffset()
    after = datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset()
    return after > before


# Overlaps compare instants, across groups and zones


def test_new_york_evening_overlaps_london_small_hours(db, uk, nyc, make_user):
    """19:00–21:00 in New York is 00:00–02:00 in London: the same member cannot do both."""
    member = make_user(groups={uk: "member", nyc: "member"})
    day = utcnow().date() + timedelta(days=20)
    ny_event = event_row(
        db.session,
        nyc,
        title="Pub meeting",
        local=datetime(day.year, day.month, day.day, 19),
        hours=2,
        venue_name="Peculier Pub",
        address="145 Bleecker St",
    )
    next_day = day + timedelta(days=1)
    london_event = event_row(
        db.session,
        uk,
        title="Night leafleting",
        local=datetime(next_day.year, next_day.month, next_day.day, 0, 30),
        hours=1,
    )
    ny_shift = _shift(db, ny_event)
    london_shift = _shift(db, london_event)
    assert shifts.shifts_overlap(ny_shift, london_shift)

    shifts.sign_up(db.session, ny_shift, member)
    db.session.commit()
    assert _error_code(lambda: shifts.sign_up(db.session, london_shift, member)) == (
        "shift_overlap"
    )
    db.session.rollback()
    organiser = make_user(groups={uk: "organiser"})
    with pytest.raises(shifts.ShiftOverlap) as raised:
        shifts.assign(db.session, london_shift, member, organiser)
    # The London organiser learns of a clash, not what the New York group is doing.
    assert "another group" in raised.value.message and "Pub" not in raised.value.message


def test_dst_week_where_zones_disagree_is_compared_by_instant(db, uk, nyc, make_user):
    """On the day New York springs forward (London has not), 19:00–20:00 EDT ends exactly when
    00:00 GMT starts: touching, not overlapping. A fixed -5 offset would call it a clash."""
    member = make_user(groups={uk: "member", nyc: "member"})
    ny_day = _next_day_where("America/New_York", _springs_forward)
    assert ZoneInfo("Europe/London").utcoffset(ny_day + timedelta(days=1)) == timedelta(0)
    ny_event = event_row(
        db.session, nyc, local=ny_day.replace(hour=19), hours=1, venue_name="A", address="NY"
    )
    london_midnight = ny_day + timedelta(days=1)
    london_event = event_row(db.session, uk, local=london_midnight, hours=1)
    ny_shift = _shift(db, ny_event)
    london_shift = _shift(db, london_event)
    assert ny_shift.ends_at == london_shift.starts_at == local_to_utc(london_midnight, "UTC")
    assert not shifts.shifts_overlap(ny_shift, london_shift)

    shifts.sign_up(db.session, ny_shift, member)
    shifts.sign_up(db.session, london_shift, member)
    db.session.commit()


def test_overlap_in_the_same_group_is_refused_and_names_the_other_shift(db, uk, make_user):
    member = make_user(groups={uk: "member"})
    event = event_row(db.session, uk)
    first = _shift(db, event, event.starts_at, event.starts_at + timedelta(hours=2))
    second = _shift(
        db, event, event.starts_at + timedelta(hours=1), event.starts_at + timedelta(hours=3)
    )
    shifts.sign_up(db.session, first, member)
    with pytest.raises(shifts.ShiftOverlap) as raised:
        shifts.sign_up(db.session, second, member)
    assert "Staffing" in raised.value.message


def test_back_to_back_shifts_at_one_event_are_fine(db, uk, make_user):
    member = make_user(groups={uk: "member"})
    event = event_row(db.session, uk)
    first = _shift(db, event, event.starts_at, event.starts_at + timedelta(hours=2))
    second = _shift(db, event, first.ends_at, first.ends_at + timedelta(hours=2))
    shifts.sign_up(db.session, first, member)
    shifts.sign_up(db.session, second, member)
    assert shifts.assignment_warnings(db.session, second, member) == []


def test_close_shifts_at_different_venues_warn_but_do_not_refuse(db, uk, make_user):
    member = make_user(name="Max", groups={uk: "member"})
    organiser = make_user(groups={uk: "organiser"})
    bookfair = event_row(db.session, uk, hours=3)
    demo = event_row(
        db.session,
        uk,
        title="Demo",
        starts_at=bookfair.ends_at + timedelta(minutes=30),
        hours=2,
        venue_name="Cathedral Square",
        address="Peterborough",
    )
    shifts.sign_up(db.session, _shift(db, bookfair), member)
    later = _shift(db, demo)
    warnings = shifts.assignment_warnings(db.session, later, member)
    assert len(warnings) == 1 and "another venue" in warnings[0]
    shifts.assign(db.session, later, member, organiser)

    far = event_row(
        db.session, uk, title="Far", starts_at=demo.ends_at + timedelta(hours=2), venue_name="X"
    )
    assert shifts.assignment_warnings(db.session, _shift(db, far), member) == []


def test_unavailable_day_is_a_warning_in_the_events_zone(db, nyc, make_user):
    member = make_user(name="Nia", groups={nyc: "member"})
    day = utcnow().date() + timedelta(days=15)
    # 21:00–23:00 in New York is the next day in UTC: the local date is what counts.
    event = event_row(db.session, nyc, local=datetime(day.year, day.month, day.day, 21), hours=2)
    shift = _shift(db, event)
    assert shift.starts_at.date() == day + timedelta(days=1)
    unavailability.mark_unavailable(db.session, member, day, "wedding")
    warnings = shifts.assignment_warnings(db.session, shift, member)
    assert warnings == [f"Nia said they are unavailable on {day.isoformat()}. (wedding)"]
    shifts.sign_up(db.session, shift, member)  # a warning, not a refusal


def test_unavailable_day_marked_twice_is_refused(db, uk, make_user):
    member = make_user(groups={uk: "member"})
    day = utcnow().date() + timedelta(days=3)
    unavailability.mark_unavailable(db.session, member, day)
    assert _error_code(lambda: unavailability.mark_unavailable(db.session, member, day)) == (
        "already_unavailable"
    )


# The stall-day template


def _event_at(local_start: datetime, hours: float, zone="Europe/London"):
    starts_at = local_to_utc(local_start, zone)
    return SimpleNamespace(
        starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours), timezone=zone
    )


def test_stall_day_template_blocks_the_day_with_setup_and_packdown():
    event = _event_at(datetime(2024, 10, 19, 10), 7)
    plan = shifts.plan_stall_day(
        event, block=timedelta(hours=2), setup=timedelta(hours=1), packdown=timedelta(minutes=30)
    )
    local = [
        (
            p.role,
            p.starts_at.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M"),
            p.ends_at.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M"),
        )
        for p in plan
    ]
    assert local == [
        (ShiftRole.SETUP, "09:00", "10:00"),
        (ShiftRole.STAFFING, "10:00", "12:00"),
        (ShiftRole.STAFFING, "12:00", "14:00"),
        (ShiftRole.STAFFING, "14:00", "16:00"),
        (ShiftRole.STAFFING, "16:00", "17:00"),  # the last block ends at closing
        (ShiftRole.PACKDOWN, "17:00", "17:30"),
    ]
    assert all(p.people_needed == 2 for p in plan)


def test_stall_day_template_even_blocks_and_no_setup():
    event = _event_at(datetime(2024, 10, 19, 10), 6)
    plan = shifts.plan_stall_day(
        event,
        block=timedelta(hours=3),
        setup=timedelta(0),
        packdown=timedelta(0),
        staffing_people=3,
    )
    assert [(p.role, p.ends_at - p.starts_at, p.people_needed) for p in plan] == [
        (ShiftRole.STAFFING, timedelta(hours=3), 3),
        (ShiftRole.STAFFING, timedelta(hours=3), 3),
    ]


def test_stall_day_template_over_a_clock_change_counts_real_hours():
    """A stall from 00:00 to 04:00 local on the night clocks go back lasts 5 real hours."""
    night = _next_day_where(
        "Europe/London",
        lambda day, zone: (
            datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset()
            < datetime(day.year, day.month, day.day, 0, tzinfo=zone).utcoffset()
        ),
    )
    starts_at = local_to_utc(night, "Europe/London")
    ends_at = local_to_utc(night.replace(hour=4), "Europe/London")
    event = SimpleNamespace(starts_at=starts_at, ends_at=ends_at, timezone="Europe/London")
    plan = shifts.plan_stall_day(
        event, block=timedelta(hours=2), setup=timedelta(0), packdown=timedelta(0)
    )
    assert ends_at - starts_at == timedelta(hours=5)
    assert [p.ends_at - p.starts_at for p in plan] == [timedelta(hours=2)] * 2 + [
        timedelta(hours=1)
    ]


def test_stall_day_template_refuses_an_empty_block():
    event = _event_at(datetime(2024, 10, 19, 10), 6)
    assert _error_code(lambda: shifts.plan_stall_day(event, block=timedelta(0))) == "bad_block"


def test_fill_stall_day_adds_the_shifts(db, uk):
    event = event_row(db.session, uk, hours=7)
    added = shifts.fill_stall_day(db.session, event, block=timedelta(hours=2))
    db.session.commit()
    assert [s.role for s in lists.event_rota(db.session, event)].count(ShiftRole.STAFFING) == 4
    assert len(added) == 6


# Shifts and places


def test_shift_must_end_after_it_starts_and_stay_near_its_event(db, uk):
    event = event_row(db.session, uk)
    assert (
        _error_code(
            lambda: shifts.add_shift(
                db.session, event, ShiftRole.SETUP, event.starts_at, event.starts_at
            )
        )
        == "ends_before_start"
    )
    assert (
        _error_code(
            lambda: shifts.add_shift(
                db.session,
                event,
                ShiftRole.DRIVER,
                event.starts_at - timedelta(days=2),
                event.starts_at,
            )
        )
        == "shift_outside_event"
    )
    assert (
        _error_code(
            lambda: shifts.add_shift(
                db.session, event, ShiftRole.CUSTOM, event.starts_at, event.ends_at, custom_role=" "
            )
        )
        == "custom_role_missing"
    )


def test_sign_up_refuses_full_repeated_cancelled_and_outsiders(db, uk, make_group, make_user):
    event = event_row(db.session, uk)
    shift = _shift(db, event, needed=1)
    first = make_user(groups={uk: "member"})
    second = make_user(groups={uk: "member"})
    outsider = make_user(groups={make_group(): "member"})
    shifts.sign_up(db.session, shift, first)
    assert _error_code(lambda: shifts.sign_up(db.session, shift, first)) == "already_on_shift"
    with pytest.raises(shifts.ShiftFull) as raised:
        shifts.sign_up(db.session, shift, second)
    assert raised.value.code == "shift_full"
    assert raised.value.message == "That shift has just been filled."

    other = _shift(db, event, needed=3, role=ShiftRole.SETUP)
    assert _error_code(lambda: shifts.sign_up(db.session, other, outsider)) == "not_in_group"
    shifts.cancel_shift(db.session, other)
    assert _error_code(lambda: shifts.sign_up(db.session, other, second)) == "shift_closed"


def test_organiser_may_go_over_the_number_needed(db, uk, make_user):
    organiser = make_user(groups={uk: "organiser"})
    event = event_row(db.session, uk)
    shift = _shift(db, event, needed=1)
    for _ in range(2):
        shifts.assign(db.session, shift, make_user(groups={uk: "member"}), organiser)
    db.session.commit()
    (rota_shift,) = lists.event_rota(db.session, event)
    assert rota_shift.filled == 2
    assert lists.fill_state(rota_shift.filled, rota_shift.people_needed) == "over"


def test_withdrawing_is_late_under_24_hours_and_frees_the_place(db, uk, make_user):
    member = make_user(groups={uk: "member"})
    soon = event_row(db.session, uk, starts_at=utcnow() + timedelta(hours=5))
    later = event_row(db.session, uk, starts_at=utcnow() + timedelta(days=5))
    soon_place = shifts.sign_up(db.session, _shift(db, soon), member)
    later_place = shifts.sign_up(db.session, _shift(db, later), member)
    assert shifts.withdraw(db.session, soon_place, "ill") is True
    assert shifts.withdraw(db.session, later_place, "away") is False
    assert soon_place.withdrawal_reason == "ill"
    # They may sign up again after withdrawing (one active place per shift).
    shifts.sign_up(db.session, later_place.shift, member)
    db.session.commit()


def test_copy_rota_keeps_offsets_from_the_event_start(db, uk, nyc):
    source = event_row(db.session, uk, hours=7)
    shifts.fill_stall_day(db.session, source, block=timedelta(hours=3))
    target = event_row(
        db.session,
        uk,
        title="Next bookfair",
        starts_at=source.starts_at + timedelta(days=28, hours=1),
    )
    copied = shifts.copy_rota(db.session, source, target)
    db.session.commit()
    assert len(copied) == 5
    assert sorted(s.starts_at - target.starts_at for s in copied) == sorted(
        s.starts_at - source.starts_at for s in lists.event_rota(db.session, source)
    )
    assert shifts.copy_rota(db.session, source, target) == []  # nothing twice
    assert _error_code(lambda: shifts.copy_rota(db.session, source, source)) == "bad_source"
    elsewhere = event_row(db.session, nyc)
    assert _error_code(lambda: shifts.copy_rota(db.session, source, elsewhere)) == "bad_source"


def test_rota_lists_gaps_first_then_full_then_over(db, uk, make_user):
    organiser = make_user(groups={uk: "organiser"})
    event = event_row(db.session, uk)
    start = event.starts_at
    full = _shift(db, event, start, start + timedelta(hours=1), needed=1)
    over = _shift(db, event, start + timedelta(hours=1), start + timedelta(hours=2), needed=1)
    short = _shift(db, event, start + timedelta(hours=2), start + timedelta(hours=3), needed=2)
    shifts.assign(db.session, full, make_user(groups={uk: "member"}), organiser)
    for _ in range(2):
        shifts.assign(db.session, over, make_user(groups={uk: "member"}), organiser)
    db.session.commit()
    rota = lists.event_rota(db.session, event)
    assert [s.id for s in rota] == [short.id, full.id, over.id]
    group_rota = lists.group_rota(
        db.session, uk, start - timedelta(days=1), start + timedelta(days=1)
    )
    assert [s.id for s in group_rota] == [short.id, full.id, over.id]


def test_cover_goes_to_the_first_taker_only(db, uk, make_user):
    asker = make_user(groups={uk: "member"})
    taker = make_user(groups={uk: "member"})
    late = make_user(groups={uk: "member"})
    event = event_row(db.session, uk)
    shift = _shift(db, event, needed=2)
    place = shifts.sign_up(db.session, shift, asker)
    request, told = cover.ask_for_cover(db.session, place, "sorry")
    assert {u.id for u in told} == {taker.id, late.id}
    assert _error_code(lambda: cover.take_cover(db.session, request, asker)) == "own_cover"
    cover.take_cover(db.session, request, taker)
    db.session.commit()
    assert _error_code(lambda: cover.take_cover(db.session, request, late)) == "cover_taken"
    db.session.rollback()
    people = [a.user_id for a in lists.event_rota(db.session, event)[0].active_assignments]
    assert people == [taker.id]
    assert db.session.get(Assignment, place.id).withdrawn_at is not None


# Messages to an event's people


def test_a_message_needs_someone_on_the_events_live_shifts(db, uk, make_user, mail):
    organiser = make_user(name="Olive", groups={uk: "organiser"})
    member = make_user(email="max@example.org", name="Max", groups={uk: "member"})
    event = event_row(db.session, uk)
    shift = _shift(db, event, needed=2)

    def send():
        return emails.event_message(db.session, event, organiser, "Venue changed", "Town Hall")

    assert _error_code(send) == "nobody_on_shifts"
    shifts.sign_up(db.session, shift, member)
    shifts.cancel_shift(db.session, shift)
    assert _error_code(send) == "nobody_on_shifts"  # the people of a cancelled shift do not count
    assert mail == []

    live = _shift(db, event)
    shifts.sign_up(db.session, live, member)
    assert send() == 1
    assert [(m.to, m.subject) for m in mail] == [("max@example.org", "Venue changed")]
