"""The network pages' rules: which groups are listed, what they show, and who may frame embeds.

Every function takes the SQLAlchemy session, flushes rather than commits, and raises a
:class:`~stallapp.errors.StallError` when a rule says no.
"""

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload, selectinload

from stallapp.accounts.models import Group
from stallapp.database import utcnow
from stallapp.errors import ValidationFailed
from stallapp.events.models import Event, EventKind, EventStatus
from stallapp.network.models import PublicPageSettings, SiteSettings
from stallapp.stock.models import Publication, SubscriptionOffer

#: At most this many sites may frame a group's embeds (a CSP header stays short).
MAX_EMBED_ORIGINS = 20
#: ``https://example.org``, ``http://localhost:8080``, ``https://*.example.org``: a scheme and a
#: host (a leading ``*.`` for every subdomain) with an optional port, nothing else.
_ORIGIN = re.compile(
    r"^(https?)://(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}"
    r"[a-z0-9])?)*)(:[0-9]{1,5})?/?$"
)
SITE_SETTINGS_ID = 1


class EventFilter(enum.StrEnum):
    """The kinds a visitor can narrow the network page to."""

    STALLS = "stalls"
    MEETINGS = "meetings"
    ONLINE = "online"


#: Which event kinds each filter shows; "online" is any event with a link or an online meeting.
FILTER_KINDS = {
    EventFilter.STALLS: (EventKind.STALL, EventKind.INTERVENTION),
    EventFilter.MEETINGS: (EventKind.PUBLIC_MEETING, EventKind.DISCUSSION),
}


class OriginRefused(ValidationFailed):
    code = "bad_origin"


# A group's settings


def public_page_settings(session: Session, group: Group) -> PublicPageSettings | None:
    """Return the group's public page settings, or None while it has never saved them."""
    return session.scalar(
        sa.select(PublicPageSettings).where(PublicPageSettings.group_id == group.id)
    )


def parse_origins(text: str) -> list[str]:
    """Return the origins in ``text`` (one a line, or separated by spaces or commas), normalised.

    :raises OriginRefused: code ``bad_origin`` naming the first entry that is not a web origin
        (a path, a query, a quote or a semicolon would break out of the CSP header), and
        ``too_many_origins`` past :data:`MAX_EMBED_ORIGINS`.
    """
    origins: list[str] = []
    for entry in re.split(r"[\s,]+", text or ""):
        if not entry:
            continue
        match = _ORIGIN.match(entry.lower())
        if match is None or (match.group(4) and int(match.group(4)[1:]) > 65535):
            raise OriginRefused(
                _(
                    "%(entry)s is not a web site's address. Write it as https://example.org, "
                    "without a path.",
                    entry=entry[:100],
                )
            )
        origin = entry.lower().rstrip("/")
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_EMBED_ORIGINS:
        raise OriginRefused(
            _("List at most %(count)d sites.", count=MAX_EMBED_ORIGINS), code="too_many_origins"
        )
    return origins


def save_public_page_settings(
    session: Session, group: Group, *, listed_on_network: bool, embed_origins: str
) -> PublicPageSettings:
    """Save whether the group is on the network pages and which sites may frame its embeds.

    :raises OriginRefused: see :func:`parse_origins`.
    """
    origins = parse_origins(embed_origins)
    settings = public_page_settings(session, group)
    if settings is None:
        settings = PublicPageSettings(group_id=group.id, group=group)
        session.add(settings)
    settings.listed_on_network = listed_on_network
    settings.embed_origins = "\n".join(origins)
    session.flush()
    return settings


def frame_ancestors(session: Session, group: Group) -> list[str]:
    """Return the origins allowed to frame the group's embeds (empty: none may)."""
    settings = public_page_settings(session, group)
    return settings.origins if settings is not None else []


# The installation's settings


def site_settings(session: Session) -> SiteSettings:
    """Return the installation's settings; an unsaved blank row while an admin has not set them."""
    return session.get(SiteSettings, SITE_SETTINGS_ID) or SiteSettings(
        id=SITE_SETTINGS_ID, name="", intro=""
    )


def save_site_settings(session: Session, *, name: str, intro: str) -> SiteSettings:
    """Save the installation's name and the text at the top of the network pages."""
    settings = session.get(SiteSettings, SITE_SETTINGS_ID)
    if settings is None:
        settings = SiteSettings(id=SITE_SETTINGS_ID)
        session.add(settings)
    settings.name = name.strip()
    settings.intro = intro.strip()
    session.flush()
    return settings


# What the network pages show


def listed_groups(session: Session) -> list[Group]:
    """Return the groups that chose to be on the network pages, by name."""
    return list(
        session.scalars(
            sa.select(Group)
            .join(PublicPageSettings, PublicPageSettings.group_id == Group.id)
            .where(PublicPageSettings.listed_on_network.is_(True))
            .order_by(Group.name, Group.id)
        )
    )


def _listed_group_ids() -> sa.Select:
    return sa.select(PublicPageSettings.group_id).where(
        PublicPageSettings.listed_on_network.is_(True)
    )


def network_events(
    session: Session,
    *,
    group_slug: str | None = None,
    kind: EventFilter | None = None,
    now: datetime | None = None,
    history: timedelta = timedelta(0),
) -> list[Event]:
    """Return the listed groups' published and cancelled events not ended before ``now -
    history`` (never drafts), soonest first, narrowed to one group or one kind."""
    query = (
        sa.select(Event)
        .join(Group, Group.id == Event.group_id)
        .where(
            Event.group_id.in_(_listed_group_ids()),
            Event.status != EventStatus.DRAFT,
            Event.ends_at >= (now or utcnow()) - history,
        )
        .options(joinedload(Event.group))
        .order_by(Event.starts_at, Event.id)
    )
    if group_slug:
        query = query.where(Group.slug == group_slug)
    if kind == EventFilter.ONLINE:
        query = query.where(sa.or_(Event.kind == EventKind.ONLINE_MEETING, Event.online_url != ""))
    elif kind is not None:
        query = query.where(Event.kind.in_(FILTER_KINDS[kind]))
    return list(session.scalars(query))


@dataclass(frozen=True)
class GroupCatalogue:
    group: Group
    publications: list[Publication]
    offers: list[SubscriptionOffer]


def network_catalogues(session: Session) -> list[GroupCatalogue]:
    """Return every listed group's active titles and subscriptions, with all their prices."""
    groups = listed_groups(session)
    ids = [group.id for group in groups]
    publications = session.scalars(
        sa.select(Publication)
        .where(Publication.group_id.in_(ids), Publication.active.is_(True))
        .options(selectinload(Publication.prices))
        .order_by(Publication.title, Publication.issue_number, Publication.id)
    ).all()
    offers = session.scalars(
        sa.select(SubscriptionOffer)
        .where(SubscriptionOffer.group_id.in_(ids), SubscriptionOffer.active.is_(True))
        .options(selectinload(SubscriptionOffer.prices))
        .order_by(SubscriptionOffer.name, SubscriptionOffer.id)
    ).all()
    return [
        GroupCatalogue(
            group=group,
            publications=[row for row in publications if row.group_id == group.id],
            offers=[row for row in offers if row.group_id == group.id],
        )
        for group in groups
    ]
