"""Event rules: creating, changing and publishing events and series, and finding them.

Every function takes the SQLAlchemy session, flushes rather than commits, and raises a
:class:`~stallapp.errors.StallError` when a rule says no. Registrations live in
:mod:`stallapp.events.registrations`; a change that frees places (a larger capacity) fills them
from the waiting list there, under the event's row lock.
"""

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload

from stallapp.accounts.models import Group
from stallapp.database import utcnow
from stallapp.errors import StallError, ValidationFailed
from stallapp.events import series as rules
from stallapp.events.models import (
    Event,
    EventKind,
    EventSeries,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from stallapp.events.registrations import (
    ACTIVE_STATUSES,
    PlaceOffer,
    fill_free_places,
    lock_event,
)
from stallapp.times import (
    EARLIEST_DAY,
    LATEST_DAY,
    NonexistentLocalTime,
    day_in_range,
    is_valid_timezone,
    local_to_utc,
    utc_to_local,
)

#: How far back the public calendar feed reaches, so a subscribed calendar keeps recent history.
FEED_HISTORY = timedelta(days=90)
#: The longest an event may last (a bookfair weekend, a summer school; not a typo in the year).
MAX_EVENT_LENGTH = timedelta(days=14)


class EventFieldError(ValidationFailed):
    """A value on the event form is refused; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, code: str, field: str | None = None):
        super().__init__(message, code=code)
        self.field = field


class EventHasRegistrations(StallError):
    code = "has_registrations"


@dataclass(frozen=True)
class EventDetails:
    """What an organiser enters for an event; ``start`` and ``end`` are naive local times."""

    kind: EventKind
    title: str
    timezone: str
    start: datetime
    end: datetime
    description: str = ""
    venue_name: str = ""
    address: str = ""
    postcode: str = ""
    online_url: str = ""
    online_link_public: bool = False
    registration_required: bool = False
    capacity: int | None = None


def check_timezone(zone_name: str) -> None:
    """:raises EventFieldError: code ``unknown_timezone`` for a name that is no IANA zone."""
    if not is_valid_timezone(zone_name):
        raise EventFieldError(
            _("Unknown time zone. Try e.g. Europe/London."), "unknown_timezone", "timezone"
        )


def resolve_times(details: EventDetails) -> tuple[datetime, datetime]:
    """Return the event's start and end as UTC instants.

    :raises EventFieldError: code ``unknown_timezone``; ``date_out_of_range`` for a day outside
        2000-2100; ``too_long`` for an event of more than 14 days; ``nonexistent_local_time``
        when a time falls in a daylight-saving gap; ``ends_before_starts`` when the end is not
        after the start.
    """
    check_timezone(details.timezone)
    for local, field in ((details.start, "start_date"), (details.end, "end_date")):
        # Checked before any zone shift: near year 1 or 9999 it would overflow.
        if not day_in_range(local):
            raise EventFieldError(
                _(
                    "Choose a date between %(first)s and %(last)s.",
                    first=EARLIEST_DAY.isoformat(),
                    last=LATEST_DAY.isoformat(),
                ),
                "date_out_of_range",
                field,
            )
    if details.end - details.start > MAX_EVENT_LENGTH:
        raise EventFieldError(
            _("An event lasts at most %(days)d days.", days=MAX_EVENT_LENGTH.days),
            "too_long",
            "end_date",
        )
    instants = []
    for local, field in ((details.start, "start_time"), (details.end, "end_time")):
        try:
            instants.append(local_to_utc(local, details.timezone))
        except NonexistentLocalTime as error:
            raise EventFieldError(
                _(
                    "%(time)s does not exist on that day: the clocks go forward. "
                    "Choose another time.",
                    time=local.strftime("%H:%M"),
                ),
                "nonexistent_local_time",
                field,
            ) from error
    starts_at, ends_at = instants
    if ends_at <= starts_at:
        raise EventFieldError(
            _("The end must be after the start."), "ends_before_starts", "end_time"
        )
    return starts_at, ends_at


def new_public_code(session: Session) -> str:
    """Return a short unguessable code for ``/e/<code>`` that no event has yet."""
    while True:
        code = secrets.token_urlsafe(6)
        if session.scalar(sa.select(Event.id).where(Event.public_code == code)) is None:
            return code


def _apply(event: Event, details: EventDetails) -> None:
    event.kind = details.kind
    event.title = details.title.strip()
    event.description = details.description.strip()
    event.timezone = details.timezone
    event.venue_name = details.venue_name.strip()
    event.address = details.address.strip()
    event.postcode = details.postcode.strip()
    event.online_url = details.online_url.strip()
    event.online_link_public = details.online_link_public
    event.registration_required = details.registration_required
    event.capacity = details.capacity


def create_event(
    session: Session, group: Group, details: EventDetails, *, publish: bool = False
) -> Event:
    """Create an event of ``group``, a draft unless ``publish``.

    :raises EventFieldError: see :func:`resolve_times`.
    """
    starts_at, ends_at = resolve_times(details)
    event = Event(
        group_id=group.id,
        group=group,
        public_code=new_public_code(session),
        starts_at=starts_at,
        ends_at=ends_at,
        status=EventStatus.PUBLISHED if publish else EventStatus.DRAFT,
    )
    _apply(event, details)
    session.add(event)
    session.flush()
    return event


def local_details(event: Event) -> EventDetails:
    """Return the event as the organiser entered it, with local times in its zone."""
    return EventDetails(
        kind=event.kind,
        title=event.title,
        timezone=event.timezone,
        start=utc_to_local(event.starts_at, event.timezone).replace(tzinfo=None),
        end=utc_to_local(event.ends_at, event.timezone).replace(tzinfo=None),
        description=event.description,
        venue_name=event.venue_name,
        address=event.address,
        postcode=event.postcode,
        online_url=event.online_url,
        online_link_public=event.online_link_public,
        registration_required=event.registration_required,
        capacity=event.capacity,
    )


def update_event(session: Session, event: Event, details: EventDetails) -> list[PlaceOffer]:
    """Change one event; return the people a larger capacity moved up from the waiting list.

    :raises EventFieldError: see :func:`resolve_times`.
    """
    starts_at, ends_at = resolve_times(details)
    event = lock_event(session, event.id)
    _apply(event, details)
    event.starts_at, event.ends_at = starts_at, ends_at
    session.flush()
    return fill_free_places(session, event)


def update_series_from(session: Session, event: Event, details: EventDetails) -> list[PlaceOffer]:
    """Change ``event`` and every later event of its series the same way.

    Each later event keeps its own day, moved by as many days as this one moved, and takes the
    new local start time and length; the series' template changes too, so its summary and any
    later use of it agree.

    :raises EventFieldError: see :func:`resolve_times`; code ``nonexistent_local_time`` names
        the day when a later event's new time falls in a daylight-saving gap.
    """
    if event.series is None:
        return update_event(session, event, details)
    resolve_times(details)
    old_start = utc_to_local(event.starts_at, event.timezone).replace(tzinfo=None)
    day_shift = details.start.date() - old_start.date()
    duration = details.end - details.start
    later = session.scalars(
        sa.select(Event)
        .where(Event.series_id == event.series_id, Event.starts_at >= event.starts_at)
        .order_by(Event.starts_at)
    ).all()
    offers: list[PlaceOffer] = []
    for other in later:
        other_day = utc_to_local(other.starts_at, other.timezone).date() + day_shift
        start = datetime.combine(other_day, details.start.time())
        other_details = replace(details, start=start, end=start + duration)
        try:
            offers += update_event(session, other, other_details)
        except EventFieldError as error:
            if error.code == "nonexistent_local_time":
                error.message = _(
                    "On %(day)s: %(problem)s", day=other_day.isoformat(), problem=error.message
                )
            raise
    template = event.series
    _apply(template, details)
    template.local_start_time = details.start.time()
    template.duration_minutes = int(duration.total_seconds() // 60)
    session.flush()
    return offers


def set_status(session: Session, event: Event, status: EventStatus) -> list[Registration]:
    """Publish, cancel or un-publish an event.

    Returns the people to tell when it is cancelled (everyone registered or waiting who has not
    been anonymised), and nobody otherwise.
    """
    previous = event.status
    event.status = status
    session.flush()
    if status != EventStatus.CANCELLED or previous == EventStatus.CANCELLED:
        return []
    return list(
        session.scalars(
            sa.select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.status.in_(ACTIVE_STATUSES),
                Registration.anonymised_at.is_(None),
            )
            .order_by(Registration.id)
        )
    )


def delete_event(session: Session, event: Event) -> None:
    """Delete an event nobody has registered for; its QR codes and shifts go with it.

    :raises EventHasRegistrations: code ``has_registrations`` when people registered (cancel it
        instead, so they are told and the figures stay); ``has_records`` when sales or stock
        movements point at it.
    """
    registrations = session.scalar(
        sa.select(sa.func.count())
        .select_from(Registration)
        .where(Registration.event_id == event.id)
    )
    if registrations:
        raise EventHasRegistrations(
            _("People have registered for this event. Cancel it instead, so they are told.")
        )
    try:
        with session.begin_nested():
            session.delete(event)
            session.flush()
    except sa.exc.IntegrityError as error:
        # Sales and stock movements keep their event (the ledger never loses a row).
        raise EventHasRegistrations(
            _("Sales or stock were recorded for this event. Cancel it instead."),
            code="has_records",
        ) from error


# Series


@dataclass(frozen=True)
class SeriesTemplate:
    """What every event of a new series is created with; times are local wall-clock times."""

    kind: EventKind
    title: str
    timezone: str
    start_time: time
    end_time: time
    description: str = ""
    venue_name: str = ""
    address: str = ""
    postcode: str = ""
    online_url: str = ""
    online_link_public: bool = False
    registration_required: bool = False
    capacity: int | None = None


def create_series(
    session: Session,
    group: Group,
    rule: rules.SeriesRule,
    template: SeriesTemplate,
    *,
    publish: bool = False,
) -> EventSeries:
    """Create a series and one event per day its rule gives.

    :raises EventFieldError: codes ``unknown_timezone`` and ``ends_before_starts``.
    :raises stallapp.events.series.SeriesRuleError: codes ``missing_range``, ``bad_range``,
        ``no_weekdays``, ``no_occurrences``, ``too_many_occurrences``, and
        ``nonexistent_local_time`` (naming the day) for a time lost to a clock change.
    """
    check_timezone(template.timezone)
    duration = datetime.combine(date.min, template.end_time) - datetime.combine(
        date.min, template.start_time
    )
    if duration <= timedelta(0):
        raise EventFieldError(
            _("The end must be after the start."), "ends_before_starts", "end_time"
        )
    days = rules.occurrence_dates(rule, template.start_time)
    instants = rules.local_occurrences(days, template.start_time, duration, template.timezone)
    series = EventSeries(
        group_id=group.id,
        group=group,
        frequency=rule.frequency.value,
        rrule=rules.rrule_text(rule, template.start_time),
        rule_summary=rules.describe(rule, template.start_time),
        first_day=rule.first_day or days[0],
        last_day=rule.last_day or days[-1],
        timezone=template.timezone,
        local_start_time=template.start_time,
        duration_minutes=int(duration.total_seconds() // 60),
    )
    _apply(series, template)
    session.add(series)
    session.flush()
    for starts_at, ends_at in instants:
        event = Event(
            group_id=group.id,
            group=group,
            public_code=new_public_code(session),
            starts_at=starts_at,
            ends_at=ends_at,
            series_id=series.id,
            status=EventStatus.PUBLISHED if publish else EventStatus.DRAFT,
        )
        _apply(event, template)
        session.add(event)
        session.flush()
    return series


# Finding events


def events_of_group(session: Session, group: Group, now: datetime | None = None):
    """Return the group's events as (upcoming soonest first, past latest first)."""
    now = now or utcnow()
    upcoming = session.scalars(
        sa.select(Event)
        .where(Event.group_id == group.id, Event.ends_at >= now)
        .order_by(Event.starts_at, Event.id)
    ).all()
    past = session.scalars(
        sa.select(Event)
        .where(Event.group_id == group.id, Event.ends_at < now)
        .order_by(Event.starts_at.desc(), Event.id.desc())
    ).all()
    return upcoming, past


def registration_counts(session: Session, events: list[Event]) -> dict[int, dict[str, int]]:
    """Return, per event id, how many are registered and waiting (one query for all)."""
    counts: dict[int, dict[str, int]] = {
        event.id: {status.value: 0 for status in RegistrationStatus} for event in events
    }
    if not events:
        return counts
    rows = session.execute(
        sa.select(Registration.event_id, Registration.status, sa.func.count())
        .where(Registration.event_id.in_([event.id for event in events]))
        .group_by(Registration.event_id, Registration.status)
    )
    for event_id, status, number in rows:
        counts[event_id][RegistrationStatus(status).value] = number
    return counts


def _shown_events(session: Session, group: Group, ended_after: datetime) -> list[Event]:
    """Return the group's published and cancelled events (never drafts) ending after a time."""
    return list(
        session.scalars(
            sa.select(Event)
            .where(
                Event.group_id == group.id,
                Event.status != EventStatus.DRAFT,
                Event.ends_at >= ended_after,
            )
            .order_by(Event.starts_at, Event.id)
        )
    )


def upcoming_public_events(
    session: Session, group: Group, now: datetime | None = None
) -> list[Event]:
    """Return the group's published and cancelled events that have not ended (never drafts)."""
    return _shown_events(session, group, now or utcnow())


def calendar_feed_events(
    session: Session, group: Group, now: datetime | None = None
) -> list[Event]:
    """Return the events for the group's calendar feed: not drafts, from a while back on."""
    return _shown_events(session, group, (now or utcnow()) - FEED_HISTORY)


def public_event(session: Session, code: str) -> Event | None:
    """Return the published or cancelled event with this public code (never a draft)."""
    return session.scalar(
        sa.select(Event)
        .where(Event.public_code == code, Event.status != EventStatus.DRAFT)
        .options(joinedload(Event.group))
    )
