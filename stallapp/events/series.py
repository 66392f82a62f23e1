"""Series rules: which days a series falls on, as python-dateutil rrules, in local wall-clock time.

A rule gives local dates; each occurrence is that date at the series' local start time, turned
into UTC on its own (:func:`stallapp.times.local_to_utc`), so "15:30" stays 15:30 on both sides
of a daylight-saving change while the UTC instant moves by an hour.
"""

import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list
from dateutil import rrule as rr
from flask_babel import get_locale
from flask_babel import gettext as _

from stallapp.errors import ValidationFailed
from stallapp.times import (
    EARLIEST_DAY,
    LATEST_DAY,
    NonexistentLocalTime,
    day_in_range,
    local_to_utc,
)

#: A series may create at most this many events at once (a typo in a year should not make 5,000).
MAX_OCCURRENCES = 200

#: dateutil's weekdays in the order of ``date.weekday()``: 0 is Monday.
WEEKDAYS = (rr.MO, rr.TU, rr.WE, rr.TH, rr.FR, rr.SA, rr.SU)
#: Allowed "nth weekday of the month" positions; -1 is the last.
MONTHLY_POSITIONS = (1, 2, 3, 4, -1)


class Frequency(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    DATES = "dates"


class SeriesRuleError(ValidationFailed):
    """A series rule or one of its occurrences is refused; ``field`` names the form field."""

    def __init__(self, message: str, code: str, field: str | None = None):
        super().__init__(message, code=code)
        self.field = field


@dataclass(frozen=True)
class SeriesRule:
    """Which local days a series falls on.

    Weekly rules use ``weekdays`` (0 is Monday); monthly rules the ``nth`` (1-4, or -1 for the
    last) ``weekday`` of each month; both between ``first_day`` and ``last_day`` inclusive. An
    explicit list uses ``dates`` alone.
    """

    frequency: Frequency
    first_day: date | None = None
    last_day: date | None = None
    weekdays: tuple[int, ...] = ()
    nth: int = -1
    weekday: int = 5
    dates: tuple[date, ...] = field(default=())


def _check_day(day: date, field_name: str) -> None:
    """:raises SeriesRuleError: code ``date_out_of_range`` for a day outside 2000-2100."""
    if not day_in_range(day):
        raise SeriesRuleError(
            _(
                "Choose dates between %(first)s and %(last)s.",
                first=EARLIEST_DAY.isoformat(),
                last=LATEST_DAY.isoformat(),
            ),
            "date_out_of_range",
            field_name,
        )


def build_rrule(rule: SeriesRule, start_time: time) -> rr.rrule | None:
    """Return the dateutil rrule for a weekly or monthly rule (None for an explicit list).

    :raises SeriesRuleError: when the days or the range are missing or make no sense, or a day
        lies outside 2000-2100 (code ``date_out_of_range``).
    """
    if rule.frequency == Frequency.DATES:
        return None
    if rule.first_day is None or rule.last_day is None:
        raise SeriesRuleError(
            _("Give the first and the last day of the series."), "missing_range", "first_day"
        )
    if rule.last_day < rule.first_day:
        raise SeriesRuleError(
            _("The last day must not be before the first day."), "bad_range", "last_day"
        )
    for day, field_name in ((rule.first_day, "first_day"), (rule.last_day, "last_day")):
        _check_day(day, field_name)
    start = datetime.combine(rule.first_day, start_time)
    # UNTIL is inclusive: an occurrence on the last day at the start time still counts.
    until = datetime.combine(rule.last_day, start_time)
    if rule.frequency == Frequency.WEEKLY:
        if not rule.weekdays:
            raise SeriesRuleError(_("Choose at least one weekday."), "no_weekdays", "weekdays")
        weekdays = [WEEKDAYS[day] for day in sorted(set(rule.weekdays))]
        return rr.rrule(rr.WEEKLY, byweekday=weekdays, dtstart=start, until=until)
    if rule.nth not in MONTHLY_POSITIONS or not 0 <= rule.weekday <= 6:
        raise SeriesRuleError(_("Choose which weekday of the month."), "bad_position", "nth")
    return rr.rrule(
        rr.MONTHLY, byweekday=WEEKDAYS[rule.weekday](rule.nth), dtstart=start, until=until
    )


def occurrence_dates(rule: SeriesRule, start_time: time = time(0, 0)) -> list[date]:
    """Return the local days the rule falls on, in order.

    :raises SeriesRuleError: when the rule is incomplete, gives no day, or gives more than
        :data:`MAX_OCCURRENCES`.
    """
    recurrence = build_rrule(rule, start_time)
    if recurrence is None:
        days = sorted(set(rule.dates))
        for day in days:
            _check_day(day, "dates")
    else:
        days = [moment.date() for moment in itertools.islice(recurrence, MAX_OCCURRENCES + 1)]
    if not days:
        raise SeriesRuleError(
            _("No day between those dates matches the rule."), "no_occurrences", "first_day"
        )
    if len(days) > MAX_OCCURRENCES:
        raise SeriesRuleError(
            _("That makes more than %(max)d events; choose a shorter range.", max=MAX_OCCURRENCES),
            "too_many_occurrences",
            "last_day",
        )
    return days


def local_occurrences(
    days: Sequence[date], start_time: time, duration: timedelta, zone_name: str
) -> list[tuple[datetime, datetime]]:
    """Return each day's (start, end) as UTC instants, keeping the local wall-clock times.

    :raises SeriesRuleError: code ``nonexistent_local_time`` when a day's start or end falls in
        a daylight-saving gap.
    """
    instants = []
    for day in days:
        local_start = datetime.combine(day, start_time)
        try:
            instants.append(
                (
                    local_to_utc(local_start, zone_name),
                    local_to_utc(local_start + duration, zone_name),
                )
            )
        except NonexistentLocalTime as error:
            raise SeriesRuleError(
                _(
                    "On %(day)s that time does not exist: the clocks change that night. "
                    "Choose another time.",
                    day=format_date(day, "long", locale=get_locale()),
                ),
                "nonexistent_local_time",
                "start_time",
            ) from error
    return instants


def rrule_text(rule: SeriesRule, start_time: time) -> str:
    """Return the rule as RFC 5545 text (``DTSTART`` and ``RRULE`` lines), or "" for a list."""
    recurrence = build_rrule(rule, start_time)
    return "" if recurrence is None else str(recurrence)


def _ordinal(position: int) -> str:
    return {
        1: _("First"),
        2: _("Second"),
        3: _("Third"),
        4: _("Fourth"),
        -1: _("Last"),
    }[position]


def describe(rule: SeriesRule, start_time: time) -> str:
    """Say the rule in words, in the current language: "Last Saturday of each month, 15:30"."""
    locale = get_locale()
    at = format_time(start_time, "short", locale=locale)
    day_names = get_day_names("wide", locale=locale)
    if rule.frequency == Frequency.WEEKLY:
        names = format_list([day_names[day] for day in sorted(set(rule.weekdays))], locale=locale)
        text = _("Every %(weekdays)s, %(time)s", weekdays=names, time=at)
    elif rule.frequency == Frequency.MONTHLY:
        text = _(
            "%(ordinal)s %(weekday)s of each month, %(time)s",
            ordinal=_ordinal(rule.nth),
            weekday=day_names[rule.weekday],
            time=at,
        )
    else:
        days = format_list(
            [format_date(day, "medium", locale=locale) for day in sorted(set(rule.dates))],
            locale=locale,
        )
        text = _("On %(dates)s, %(time)s", dates=days, time=at)
    return text if len(text) <= 300 else text[:299] + "…"
