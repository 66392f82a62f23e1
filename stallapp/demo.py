"""Demo data drawn from the groups' public pages: loaded by ``flask demo-data``, idempotently."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stallapp.accounts import services
from stallapp.accounts.models import Group, Role, User
from stallapp.database import utcnow
from stallapp.events import registrations as event_registrations
from stallapp.events import services as event_services
from stallapp.events.models import Event, EventKind, EventSeries
from stallapp.events.series import Frequency, SeriesRule
from stallapp.network import services as network
from stallapp.qr.demo import load_demo_qr_codes
from stallapp.reports.demo import load_demo_reports
from stallapp.rota import shifts as rota
from stallapp.rota.models import Assignment, Shift, ShiftRole
from stallapp.stock.demo import load_demo_stock
from stallapp.times import utc_to_local

#: Printed by ``make run`` and listed in README; demo only, never for a real installation.
DEMO_PASSWORD = "stallapp-demo"  # noqa: S105 - published demo credential


@dataclass(frozen=True)
class DemoLogin:
    email: str
    description: str


DEMO_GROUPS = [
    services.GroupSettings(
        name="CWO (UK)", slug="uk", timezone="Europe/London", currency="GBP", language="en"
    ),
    services.GroupSettings(
        name="IWG New York", slug="nyc", timezone="America/New_York", currency="USD", language="en"
    ),
    services.GroupSettings(
        name="Klasbatalo Montréal",
        slug="montreal",
        timezone="America/Toronto",
        currency="CAD",
        language="fr",
    ),
    services.GroupSettings(
        name="PCInt – Battaglia Comunista",
        slug="italia",
        timezone="Europe/Rome",
        currency="EUR",
        language="it",
    ),
]

DEMO_USERS = [
    # email, name, site admin, {group slug: role}
    ("admin@example.org", "Ada Admin", True, {}),
    (
        "organiser@example.org",
        "Olive Organiser",
        False,
        {"uk": Role.ORGANISER, "nyc": Role.MEMBER},
    ),
    ("member@example.org", "Max Member", False, {"uk": Role.MEMBER}),
    ("nyc.organiser@example.org", "Nia Organiser", False, {"nyc": Role.ORGANISER}),
    ("montreal.organiser@example.org", "Mathieu Organisateur", False, {"montreal": Role.ORGANISER}),
    ("italia.organiser@example.org", "Giulia Organizzatrice", False, {"italia": Role.ORGANISER}),
]

DEMO_LOGINS = [
    DemoLogin("admin@example.org", "site admin"),
    DemoLogin("organiser@example.org", "organiser of uk, member of nyc"),
    DemoLogin("member@example.org", "member of uk"),
]


def has_any_user(session: Session) -> bool:
    """Tell whether the database has any account yet (demo data goes into empty ones only)."""
    return session.scalar(sa.select(sa.func.count()).select_from(User)) > 0


def load_demo_data(session: Session) -> None:
    """Create the demo groups, users and memberships that do not exist yet."""
    groups: dict[str, Group] = {}
    for settings in DEMO_GROUPS:
        group = session.scalar(sa.select(Group).where(Group.slug == settings.slug))
        groups[settings.slug] = group or services.create_group(session, settings)
    for email, name, is_admin, roles in DEMO_USERS:
        user = services.find_user_by_email(session, email)
        if user is None:
            user = services.create_user(session, email, name, DEMO_PASSWORD, is_admin=is_admin)
        for slug, role in roles.items():
            if services.membership_of(session, user, groups[slug]) is None:
                services.add_membership(session, user, groups[slug], role)
    session.flush()
    load_demo_events(session, groups)
    load_demo_qr_codes(session, groups)
    load_demo_rota(session, groups)
    load_demo_stock(session, groups, services.find_user_by_email(session, "organiser@example.org"))
    load_demo_reports(
        session, groups, services.find_user_by_email(session, "organiser@example.org")
    )
    load_demo_network(session, groups)


def load_demo_network(session: Session, groups: dict[str, Group]) -> None:
    """Put every demo group on the network pages and name the site, unless already set."""
    for slug, group in groups.items():
        if network.public_page_settings(session, group) is None:
            network.save_public_page_settings(
                session,
                group,
                listed_on_network=True,
                embed_origins=DEMO_EMBED_ORIGINS.get(slug, ""),
            )
    if not network.site_settings(session).name:
        network.save_site_settings(session, name=DEMO_SITE_NAME, intro=DEMO_SITE_INTRO)


@dataclass(frozen=True)
class DemoEvent:
    """One of the seed's events, placed ``weeks`` from the Saturday after the load day."""

    group: str
    title: str
    weeks: int
    start: time
    end: time
    kind: EventKind
    venue_name: str
    address: str
    postcode: str
    description: str
    online_url: str = ""
    registration_required: bool = False


#: From the groups' public pages; their days are moved relative to the day the demo is loaded.
DEMO_EVENTS = [
    DemoEvent(
        "uk",
        "Peterborough Radical Bookfair",
        3,
        time(10, 0),
        time(17, 0),
        EventKind.STALL,
        "The George Alcock Centre",
        "Whittlesey Rd, Stanground, Peterborough",
        "PE2 8QS",
        "The CWO will have a stall at the Peterborough Radical Bookfair.",
    ),
    DemoEvent(
        "uk",
        "Sheffield Radical Bookfair",
        -6,
        time(10, 0),
        time(17, 0),
        EventKind.STALL,
        "Sheffield Trades & Labour Club",
        "200 Duke St, Sheffield",
        "S2 5QQ",
        "The CWO will have a meeting and a stall at the Sheffield Radical Bookfair.",
    ),
    DemoEvent(
        "uk",
        "Newcastle Ewan Brown Anarchist Bookfair",
        -14,
        time(10, 0),
        time(17, 0),
        EventKind.STALL,
        "Star and Shadow Cinema",
        "Warwick St, Newcastle upon Tyne",
        "NE2 1BB",
        "The CWO will have a stall at the Newcastle Ewan Brown Anarchist Bookfair.",
    ),
    DemoEvent(
        "montreal",
        "Table outside the anarchist bookfair",
        5,
        time(11, 0),
        time(17, 0),
        EventKind.STALL,
        "CEDA",
        "2515 Rue Delisle, Montréal, QC",
        "H3J 1K8",
        "Klasbatalo tiendra une table devant le salon du livre anarchiste.",
    ),
    DemoEvent(
        "nyc",
        "IWG online meeting: state capitalism in the USSR",
        2,
        time(19, 0),
        time(20, 30),
        EventKind.ONLINE_MEETING,
        "",
        "",
        "",
        "IWG online meeting on state capitalism in the USSR. Register to get the link.",
        # Kept private (the default): registrants get it by email and on their own page.
        online_url="https://meet.example.org/iwg-state-capitalism",
        registration_required=True,
    ),
    DemoEvent(
        "italia",
        "Volantinaggio alla manifestazione per la Palestina",
        2,
        time(15, 0),
        time(18, 0),
        EventKind.INTERVENTION,
        "Piazza della Santissima Annunziata",
        "Firenze",
        "50122",
        "Il PCInt distribuirà il suo volantino sulla situazione in Palestina, in italiano e in "
        "inglese.",
    ),
]

#: The installation's name and the text of its network page, and the sites that may frame a
#: group's lists (the ICT's own site for the UK group).
DEMO_SITE_NAME = "Internationalist Communist Tendency"
DEMO_SITE_INTRO = (
    "Stalls, public meetings and publications of the groups of the Internationalist Communist "
    "Tendency: the CWO in the UK, the IWG in the USA, Klasbatalo in Montreal and the PCInt in "
    "Italy. Each event is shown in its own time zone."
)
DEMO_EMBED_ORIGINS = {"uk": "https://www.leftcom.org"}

DEMO_SERIES_TITLE = "IWG monthly meeting"
#: People registered for the next New York meeting, so the door list has someone to check in.
DEMO_REGISTRANTS = [
    ("Rosa Demo", "rosa.demo@example.org"),
    ("Karl Demo", "karl.demo@example.org"),
    ("Sylvia Demo", "sylvia.demo@example.org"),
]


def _saturday_after(day: date) -> date:
    return day + timedelta(days=(5 - day.weekday()) % 7 or 7)


def _months_from(day: date, months: int) -> date:
    """Return the first day of the month ``months`` away from ``day``'s."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, 1)


def load_demo_events(session: Session, groups: dict[str, Group]) -> None:
    """Add the seed's events, placed relative to today, unless the group already has them.

    Single events are known by group and title, the series by its title; so loading again, on
    any day, adds nothing.
    """
    for demo in DEMO_EVENTS:
        group = groups[demo.group]
        exists = session.scalar(
            sa.select(Event.id).where(Event.group_id == group.id, Event.title == demo.title)
        )
        if exists is not None:
            continue
        today = utc_to_local(utcnow(), group.timezone).date()
        day = _saturday_after(today) + timedelta(weeks=demo.weeks)
        event_services.create_event(
            session,
            group,
            event_services.EventDetails(
                kind=demo.kind,
                title=demo.title,
                timezone=group.timezone,
                start=datetime.combine(day, demo.start),
                end=datetime.combine(day, demo.end),
                description=demo.description,
                venue_name=demo.venue_name,
                address=demo.address,
                postcode=demo.postcode,
                online_url=demo.online_url,
                registration_required=demo.registration_required,
            ),
            publish=True,
        )
    _load_demo_series(session, groups["nyc"])


def _load_demo_series(session: Session, nyc: Group) -> None:
    """The New York meetings: last Saturday of each month, 15:30, three months back and ahead."""
    exists = session.scalar(
        sa.select(EventSeries.id).where(
            EventSeries.group_id == nyc.id, EventSeries.title == DEMO_SERIES_TITLE
        )
    )
    if exists is not None:
        return
    today = utc_to_local(utcnow(), nyc.timezone).date()
    last_month = _months_from(today, 3)
    rule = SeriesRule(
        frequency=Frequency.MONTHLY,
        first_day=_months_from(today, -3),
        last_day=last_month.replace(day=calendar.monthrange(last_month.year, last_month.month)[1]),
        nth=-1,
        weekday=5,
    )
    series = event_services.create_series(
        session,
        nyc,
        rule,
        event_services.SeriesTemplate(
            kind=EventKind.PUBLIC_MEETING,
            title=DEMO_SERIES_TITLE,
            timezone=nyc.timezone,
            start_time=time(15, 30),
            end_time=time(17, 30),
            description=(
                "The IWG holds regular in-person meetings where sympathizers are encouraged to "
                "come and get in contact."
            ),
            venue_name="Peculier Pub",
            address="145 Bleecker St, New York, NY",
            postcode="10012",
            registration_required=True,
            capacity=30,
        ),
        publish=True,
    )
    upcoming = [event for event in series.events if event_registrations.registration_open(event)]
    if upcoming:
        next_meeting = min(upcoming, key=lambda event: event.starts_at)
        for name, email in DEMO_REGISTRANTS:
            event_registrations.register(
                session,
                next_meeting,
                name=name,
                email=email,
                consent_text="Demo registration.",
            )


# Rota


def _demo_event(session: Session, group: Group, title: str, *, upcoming: bool) -> Event | None:
    """Return the group's event with this title: the next one, or the latest past one."""
    now = utcnow()
    statement = sa.select(Event).where(Event.group_id == group.id, Event.title == title)
    if upcoming:
        statement = statement.where(Event.starts_at > now).order_by(Event.starts_at)
    else:
        statement = statement.where(Event.starts_at <= now).order_by(Event.starts_at.desc())
    return session.scalars(statement.limit(1)).first()


def _has_shifts(session: Session, event: Event) -> bool:
    return (
        session.scalar(sa.select(Shift.id).where(Shift.event_id == event.id).limit(1)) is not None
    )


def load_demo_rota(session: Session, groups: dict[str, Group]) -> None:
    """Give the seed's events shifts, with some people on them and some gaps.

    An event that already has shifts is left alone, so loading again adds nothing.
    """
    people = {email: services.find_user_by_email(session, email) for email, *_ in DEMO_USERS}
    olive, max_ = people["organiser@example.org"], people["member@example.org"]

    peterborough = _demo_event(
        session, groups["uk"], "Peterborough Radical Bookfair", upcoming=True
    )
    if peterborough is not None and not _has_shifts(session, peterborough):
        rota.add_shift(
            session,
            peterborough,
            ShiftRole.DRIVER,
            peterborough.starts_at - timedelta(hours=2),
            peterborough.starts_at - timedelta(hours=1),
            notes="Van from the lock-up: the literature boxes, the banner and the folding table.",
        )
        shifts = rota.fill_stall_day(
            session, peterborough, block=timedelta(hours=2), packdown=timedelta(minutes=30)
        )
        setup, first_staffing = shifts[0], shifts[1]
        rota.assign(session, setup, olive, olive)
        rota.sign_up(session, first_staffing, max_)

    # A past stall, staffed, for the reports ("who staffed it and for how long").
    sheffield = _demo_event(session, groups["uk"], "Sheffield Radical Bookfair", upcoming=False)
    if sheffield is not None and not _has_shifts(session, sheffield):
        for planned in rota.plan_stall_day(sheffield, block=timedelta(hours=3, minutes=30)):
            shift = rota.add_shift(
                session,
                sheffield,
                planned.role,
                planned.starts_at,
                planned.ends_at,
                people_needed=planned.people_needed,
            )
            # Past shifts take no sign-ups; the record is written as it happened.
            for person in (olive, max_):
                session.add(Assignment(shift=shift, user=person, assigned_by=olive))
        session.flush()

    montreal = _demo_event(
        session, groups["montreal"], "Table outside the anarchist bookfair", upcoming=True
    )
    if montreal is not None and not _has_shifts(session, montreal):
        shifts = rota.fill_stall_day(session, montreal, block=timedelta(hours=3), staffing_people=1)
        rota.assign(session, shifts[0], people["montreal.organiser@example.org"], None)

    meeting = _demo_event(session, groups["nyc"], DEMO_SERIES_TITLE, upcoming=True)
    if meeting is not None and not _has_shifts(session, meeting):
        chair = rota.add_shift(
            session, meeting, ShiftRole.CHAIR, meeting.starts_at, meeting.ends_at
        )
        rota.assign(session, chair, people["nyc.organiser@example.org"], None)
        rota.add_shift(
            session,
            meeting,
            ShiftRole.CUSTOM,
            meeting.starts_at - timedelta(minutes=30),
            meeting.ends_at,
            custom_role="Literature table",
            notes="Bring the latest Internationalist Notes.",
        )
    session.flush()
