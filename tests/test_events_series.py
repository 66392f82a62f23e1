"""Series rules: weekly, monthly (nth and last weekday), explicit dates, and DST changes."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from stallapp.events import services
from stallapp.events.models import EventKind, EventStatus
from stallapp.events.series import (
    MAX_OCCURRENCES,
    Frequency,
    SeriesRule,
    SeriesRuleError,
    build_rrule,
    describe,
    local_occurrences,
    occurrence_dates,
)
from stallapp.times import utc_to_local

#: Rules need no database; one backend is enough for the services tests here.
pytestmark = pytest.mark.backends("sqlite")

MONDAY, TUESDAY, THURSDAY, SATURDAY = 0, 1, 3, 5


def test_weekly_on_several_weekdays(app):
    rule = SeriesRule(
        Frequency.WEEKLY,
        first_day=date(2024, 8, 12),
        last_day=date(2024, 8, 25),
        weekdays=(THURSDAY, TUESDAY),
    )
    assert occurrence_dates(rule) == [
        date(2024, 8, 13),
        date(2024, 8, 15),
        date(2024, 8, 20),
        date(2024, 8, 22),
    ]


def test_between_two_dates_inclusive(app):
    rule = SeriesRule(
        Frequency.WEEKLY,
        first_day=date(2024, 8, 13),
        last_day=date(2024, 8, 27),
        weekdays=(TUESDAY,),
    )
    # "Tuesdays 13, 20 and 27 August, 19:00": both ends count, even at a late start time.
    assert occurrence_dates(rule, time(19, 0)) == [
        date(2024, 8, 13),
        date(2024, 8, 20),
        date(2024, 8, 27),
    ]


def test_last_saturday_of_each_month(app):
    rule = SeriesRule(
        Frequency.MONTHLY,
        first_day=date(2024, 1, 1),
        last_day=date(2024, 6, 30),
        nth=-1,
        weekday=SATURDAY,
    )
    assert occurrence_dates(rule, time(15, 30)) == [
        date(2024, 1, 27),
        date(2024, 2, 24),
        date(2024, 3, 30),
        date(2024, 4, 27),
        date(2024, 5, 25),
        date(2024, 6, 29),
    ]
    assert "BYDAY=-1SA" in str(build_rrule(rule, time(15, 30)))


def test_nth_weekday_of_each_month(app):
    rule = SeriesRule(
        Frequency.MONTHLY,
        first_day=date(2024, 9, 1),
        last_day=date(2024, 11, 30),
        nth=2,
        weekday=MONDAY,
    )
    assert occurrence_dates(rule) == [date(2024, 9, 9), date(2024, 10, 14), date(2024, 11, 11)]


def test_explicit_list_of_dates_sorted_once_each(app):
    rule = SeriesRule(
        Frequency.DATES,
        dates=(date(2024, 8, 27), date(2024, 8, 13), date(2024, 8, 20), date(2024, 8, 13)),
    )
    assert occurrence_dates(rule) == [date(2024, 8, 13), date(2024, 8, 20), date(2024, 8, 27)]
    assert build_rrule(rule, time(19, 0)) is None


def test_local_time_kept_across_a_dst_change(app):
    rule = SeriesRule(
        Frequency.MONTHLY,
        first_day=date(2024, 10, 1),
        last_day=date(2024, 11, 30),
        nth=-1,
        weekday=SATURDAY,
    )
    days = occurrence_dates(rule, time(15, 30))
    (october, _), (november, _) = local_occurrences(
        days, time(15, 30), timedelta(hours=2), "America/New_York"
    )
    # New York leaves daylight saving on 3 November 2024.
    assert october == datetime(2024, 10, 26, 19, 30, tzinfo=UTC)
    assert november == datetime(2024, 11, 30, 20, 30, tzinfo=UTC)
    for instant in (october, november):
        assert utc_to_local(instant, "America/New_York").time() == time(15, 30)


def test_an_occurrence_in_a_dst_gap_is_refused_naming_the_day(app):
    # 02:30 does not exist in London on 31 March 2024 (clocks go from 01:00 to 02:00 UTC).
    with pytest.raises(SeriesRuleError) as raised:
        local_occurrences(
            [date(2024, 3, 24), date(2024, 3, 31)], time(1, 30), timedelta(hours=1), "Europe/London"
        )
    assert raised.value.code == "nonexistent_local_time"
    assert "2024" in raised.value.message


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        (SeriesRule(Frequency.WEEKLY, date(2024, 1, 1), date(2024, 2, 1)), "no_weekdays"),
        (SeriesRule(Frequency.WEEKLY, None, date(2024, 2, 1), (MONDAY,)), "missing_range"),
        (SeriesRule(Frequency.WEEKLY, date(2024, 2, 1), date(2024, 1, 1), (MONDAY,)), "bad_range"),
        (
            SeriesRule(Frequency.WEEKLY, date(2024, 1, 2), date(2024, 1, 6), (MONDAY,)),
            "no_occurrences",
        ),
        (
            SeriesRule(Frequency.WEEKLY, date(2024, 1, 1), date(2034, 1, 1), (MONDAY,)),
            "too_many_occurrences",
        ),
        (SeriesRule(Frequency.DATES), "no_occurrences"),
    ],
)
def test_bad_rules_are_refused(app, rule, code):
    with pytest.raises(SeriesRuleError) as raised:
        occurrence_dates(rule)
    assert raised.value.code == code


def test_too_many_is_more_than_the_maximum(app):
    weeks = MAX_OCCURRENCES - 1
    rule = SeriesRule(
        Frequency.WEEKLY,
        first_day=date(2024, 1, 1),
        last_day=date(2024, 1, 1) + timedelta(weeks=weeks),
        weekdays=(MONDAY,),
    )
    assert len(occurrence_dates(rule)) == MAX_OCCURRENCES


def test_rule_in_words(app):
    with app.test_request_context():
        monthly = SeriesRule(Frequency.MONTHLY, date(2024, 1, 1), date(2024, 6, 30), nth=-1)
        assert describe(monthly, time(15, 30)) == "Last Saturday of each month, 3:30\u202fPM"
        weekly = SeriesRule(
            Frequency.WEEKLY, date(2024, 1, 1), date(2024, 6, 30), weekdays=(THURSDAY, TUESDAY)
        )
        assert describe(weekly, time(19, 0)).startswith("Every Tuesday and Thursday")


def _template(**overrides):
    values = {
        "kind": EventKind.PUBLIC_MEETING,
        "title": "IWG monthly meeting",
        "timezone": "America/New_York",
        "start_time": time(15, 30),
        "end_time": time(17, 30),
        "venue_name": "Peculier Pub",
        "registration_required": True,
        "capacity": 30,
    }
    values.update(overrides)
    return services.SeriesTemplate(**values)


def test_create_series_makes_one_event_per_day(app, db, make_group):
    nyc = make_group(slug="nyc", timezone="America/New_York")
    rule = SeriesRule(Frequency.MONTHLY, date(2024, 9, 1), date(2024, 12, 31), nth=-1)
    series = services.create_series(db.session, nyc, rule, _template(), publish=True)
    db.session.commit()
    events = sorted(series.events, key=lambda event: event.starts_at)
    assert [utc_to_local(e.starts_at, e.timezone).date() for e in events] == [
        date(2024, 9, 28),
        date(2024, 10, 26),
        date(2024, 11, 30),
        date(2024, 12, 28),
    ]
    assert {utc_to_local(e.starts_at, e.timezone).time() for e in events} == {time(15, 30)}
    assert {utc_to_local(e.ends_at, e.timezone).time() for e in events} == {time(17, 30)}
    assert {e.status for e in events} == {EventStatus.PUBLISHED}
    assert {e.capacity for e in events} == {30}
    assert len({e.public_code for e in events}) == 4
    assert series.rrule.endswith("RRULE:FREQ=MONTHLY;UNTIL=20241231T153000;BYDAY=-1SA")
    assert series.rule_summary.startswith("Last Saturday of each month")
    assert (series.local_start_time, series.duration_minutes) == (time(15, 30), 120)


def test_create_series_refuses_an_end_before_the_start(app, db, make_group):
    nyc = make_group(slug="nyc", timezone="America/New_York")
    rule = SeriesRule(Frequency.DATES, dates=(date(2024, 9, 1),))
    with pytest.raises(services.EventFieldError) as raised:
        services.create_series(db.session, nyc, rule, _template(end_time=time(15, 0)))
    assert raised.value.code == "ends_before_starts"
    with pytest.raises(services.EventFieldError) as raised:
        services.create_series(db.session, nyc, rule, _template(timezone="Mars/Olympus"))
    assert raised.value.code == "unknown_timezone"
