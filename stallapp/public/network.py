"""The network's own public pages: every listed group's coming events and publications on one
page, and the events as calendar, JSON and Atom feeds. No login needed."""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from stallapp.accounts.models import Group
from stallapp.display import zone_label
from stallapp.events.calendar import calendar_bytes
from stallapp.events.display import KIND_LABELS, event_when, online_note
from stallapp.events.models import Event
from stallapp.events.services import FEED_HISTORY
from stallapp.extensions import db
from stallapp.i18n import regional_locale
from stallapp.network import services
from stallapp.network.feeds import atom_bytes, events_json
from stallapp.public.events import CACHE_FOR_FIVE_MINUTES
from stallapp.times import utc_to_local
from stallapp.urls import absolute_url

bp = Blueprint("public_network", __name__)

GROUPINGS = ("date", "group")
FILTER_VALUES = frozenset(kind.value for kind in services.EventFilter)


def event_link(event: Event) -> str:
    return absolute_url("public_events.event_page", event_code=event.public_code)


def group_link(group: Group) -> str:
    return absolute_url("public_events.group_page", group_slug=group.slug)


@dataclass(frozen=True)
class Choice:
    """What the visitor narrowed the page to, read from the query string."""

    group_slug: str | None
    kind: services.EventFilter | None
    grouping: str

    def arguments(self) -> dict[str, str]:
        """The query arguments that give the same choice (for the feeds' links)."""
        values = {"group": self.group_slug or "", "kind": self.kind.value if self.kind else ""}
        return {name: value for name, value in values.items() if value}


def _choice(groups: list[Group]) -> Choice:
    slug = request.args.get("group", "")
    kind = request.args.get("kind", "")
    grouping = request.args.get("by", "")
    return Choice(
        group_slug=slug if slug in {group.slug for group in groups} else None,
        kind=services.EventFilter(kind) if kind in FILTER_VALUES else None,
        grouping=grouping if grouping in GROUPINGS else GROUPINGS[0],
    )


@dataclass(frozen=True)
class ListedEvent:
    """An event as the network page shows it: in its own zone and its group's language."""

    event: Event
    locale: str
    kind: str
    when: str
    zone: str
    online: str
    day: date


def _listed(event: Event) -> ListedEvent:
    locale = regional_locale(event.group.language, event.group)
    with force_locale(locale):
        return ListedEvent(
            event=event,
            locale=locale.replace("_", "-"),
            kind=str(KIND_LABELS[event.kind]),
            when=event_when(event),
            zone=zone_label(event.timezone),
            online=online_note(event),
            day=utc_to_local(event.starts_at, event.timezone).date(),
        )


def _sections(listed: list[ListedEvent], grouping: str) -> list[tuple[object, list[ListedEvent]]]:
    """Split the events into (day or group, events) sections, in order."""
    if grouping == "group":
        ordered = sorted(listed, key=lambda item: (item.event.group.name, item.event.group.id))
        return [
            (group, list(items))
            for group, items in groupby(ordered, key=lambda item: item.event.group)
        ]
    ordered = sorted(listed, key=lambda item: (item.day, item.event.starts_at))
    return [(day, list(items)) for day, items in groupby(ordered, key=lambda item: item.day)]


def _public(response: Response, *, vary_language: bool = False) -> Response:
    response.headers["Cache-Control"] = CACHE_FOR_FIVE_MINUTES
    if vary_language:
        # The page's own words follow the browser's language.
        response.vary.add("Accept-Language")
    return response


def _title(settings) -> str:
    return settings.name or _("Coming events")


@bp.route("/events")
def events():
    """Show every listed group's coming events, by day or by group, narrowed as asked."""
    groups = services.listed_groups(db.session)
    choice = _choice(groups)
    found = services.network_events(db.session, group_slug=choice.group_slug, kind=choice.kind)
    settings = services.site_settings(db.session)
    response = Response(
        render_template(
            "public/network_events.html",
            settings=settings,
            title=_title(settings),
            groups=groups,
            choice=choice,
            filters=services.EventFilter,
            sections=_sections([_listed(event) for event in found], choice.grouping),
        )
    )
    return _public(response, vary_language=True)


def _feed_title() -> str:
    return _title(services.site_settings(db.session))


def _feed_events(choice: Choice, *, history: timedelta = timedelta(0)) -> list[Event]:
    """The events a feed holds: coming ones, and with ``history`` recent ones too."""
    return services.network_events(
        db.session, group_slug=choice.group_slug, kind=choice.kind, history=history
    )


@bp.route("/events.ics")
def events_calendar():
    """Serve the listed groups' events as one iCalendar feed to subscribe to."""
    choice = _choice(services.listed_groups(db.session))
    body = calendar_bytes(
        _feed_events(choice, history=FEED_HISTORY), event_link, name=_feed_title()
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="events.ics"'
    return _public(response)


@bp.route("/events.json")
def events_feed_json():
    """Serve the listed groups' coming events as JSON (the shape in docs/feeds.md)."""
    choice = _choice(services.listed_groups(db.session))
    return json_response(
        events_json(
            title=_feed_title(),
            home_url=absolute_url("public_network.events", **choice.arguments()),
            feed_url=absolute_url("public_network.events_feed_json", **choice.arguments()),
            events=_feed_events(choice),
            event_url=event_link,
            group_url=group_link,
        ),
        "events.json",
    )


@bp.route("/events.atom")
def events_feed_atom():
    """Serve the listed groups' coming events as an Atom feed."""
    choice = _choice(services.listed_groups(db.session))
    return atom_response(
        atom_bytes(
            title=_feed_title(),
            feed_url=absolute_url("public_network.events_feed_atom", **choice.arguments()),
            home_url=absolute_url("public_network.events", **choice.arguments()),
            events=_feed_events(choice),
            event_url=event_link,
            cancelled_label=_("Cancelled"),
        ),
        "events.atom",
    )


def json_response(data: dict, filename: str) -> Response:
    """Return a public JSON feed: cached like the calendar feeds, readable by any site's script."""
    response = Response(json.dumps(data, ensure_ascii=False, indent=1), mimetype="application/json")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    # Public data without cookies: a group's own site may fetch it from the browser.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _public(response)


def atom_response(body: bytes, filename: str) -> Response:
    """Return a public Atom feed, cached like the calendar feeds."""
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return _public(response)


@bp.route("/publications")
def publications():
    """Show the listed groups' catalogues side by side, with every price they give."""
    settings = services.site_settings(db.session)
    response = Response(
        render_template(
            "public/network_publications.html",
            settings=settings,
            title=settings.name or _("Publications"),
            catalogues=services.network_catalogues(db.session),
            events_link=url_for("public_network.events"),
        )
    )
    return _public(response, vary_language=True)
