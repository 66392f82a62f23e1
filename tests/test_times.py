"""When a local day begins: the one helper every date range is built on."""

from datetime import UTC, date, datetime, timedelta

import pytest

from stallapp.times import local_day_start


@pytest.mark.parametrize(
    ("day", "zone_name", "expected"),
    [
        # An ordinary day: local midnight.
        (date(2024, 10, 19), "Europe/London", datetime(2024, 10, 18, 23, 0, tzinfo=UTC)),
        (date(2024, 1, 15), "America/New_York", datetime(2024, 1, 15, 5, 0, tzinfo=UTC)),
        (date(2024, 6, 1), "UTC", datetime(2024, 6, 1, 0, 0, tzinfo=UTC)),
        # London's clock changes happen at 01:00/02:00: midnight still exists.
        (date(2024, 3, 31), "Europe/London", datetime(2024, 3, 31, 0, 0, tzinfo=UTC)),
        # Chile springs forward at midnight: the day begins at 01:00 (-03:00).
        (date(2024, 9, 8), "America/Santiago", datetime(2024, 9, 8, 4, 0, tzinfo=UTC)),
        # So does Cuba: the day begins at 01:00 (-04:00).
        (date(2024, 3, 10), "America/Havana", datetime(2024, 3, 10, 5, 0, tzinfo=UTC)),
    ],
)
def test_local_day_start(day, zone_name, expected):
    start = local_day_start(day, zone_name)
    assert start == expected
    assert start.tzinfo is not None and start.utcoffset().total_seconds() == 0


def test_a_day_whose_midnight_is_skipped_is_23_hours_long():
    start = local_day_start(date(2024, 9, 8), "America/Santiago")
    assert local_day_start(date(2024, 9, 9), "America/Santiago") - start == timedelta(hours=23)
