"""A group's events and titles for its own web site: JSON and Atom feeds, and embeddable lists.

The embeds are plain HTML without script, framable only by the sites the group lists in its
public-page settings (``Content-Security-Policy: frame-ancestors``); every other page of the app
keeps ``frame-ancestors 'none'``.
"""

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from stallapp.events import services as event_services
from stallapp.extensions import db
from stallapp.network import services
from stallapp.network.feeds import atom_bytes, events_json
from stallapp.permissions import public_group_or_404
from stallapp.public.network import (
    CACHE_FOR_FIVE_MINUTES,
    atom_response,
    event_link,
    group_link,
    json_response,
)
from stallapp.security import content_security_policy
from stallapp.stock import services as stock_services
from stallapp.urls import absolute_url

bp = Blueprint("public_feeds", __name__)


@bp.route("/g/<group_slug>/events.json")
def group_events_json(group_slug: str):
    """Serve the group's coming events as JSON (the shape in docs/feeds.md)."""
    group = public_group_or_404(group_slug)
    return json_response(
        events_json(
            title=group.name,
            home_url=group_link(group),
            feed_url=absolute_url("public_feeds.group_events_json", group_slug=group.slug),
            events=event_services.upcoming_public_events(db.session, group),
            event_url=event_link,
            group_url=group_link,
        ),
        f"{group.slug}-events.json",
    )


@bp.route("/g/<group_slug>/events.atom")
def group_events_atom(group_slug: str):
    """Serve the group's coming events as an Atom feed."""
    group = public_group_or_404(group_slug)
    return atom_response(
        atom_bytes(
            title=group.name,
            feed_url=absolute_url("public_feeds.group_events_atom", group_slug=group.slug),
            home_url=group_link(group),
            events=event_services.upcoming_public_events(db.session, group),
            event_url=event_link,
            cancelled_label=_("Cancelled"),
        ),
        f"{group.slug}-events.atom",
    )


def _embed_response(group, body: str) -> Response:
    response = Response(body)
    response.headers["Cache-Control"] = CACHE_FOR_FIVE_MINUTES
    response.headers["Content-Security-Policy"] = content_security_policy(
        services.frame_ancestors(db.session, group)
    )
    return response


def _styled() -> bool:
    """Tell whether the embed asked for the app's small stylesheet (``?style=light``)."""
    return request.args.get("style") == "light"


@bp.route("/g/<group_slug>/embed/events")
def embed_events(group_slug: str):
    """Show the group's coming events as a plain list to frame in another site."""
    group = public_group_or_404(group_slug)
    return _embed_response(
        group,
        render_template(
            "public/embed_events.html",
            group=group,
            events=event_services.upcoming_public_events(db.session, group),
            event_link=event_link,
            styled=_styled(),
        ),
    )


@bp.route("/g/<group_slug>/embed/publications")
def embed_publications(group_slug: str):
    """Show the group's titles and prices as a plain list to frame in another site."""
    group = public_group_or_404(group_slug)
    return _embed_response(
        group,
        render_template(
            "public/embed_publications.html",
            group=group,
            publications=stock_services.publications_of(db.session, group, active_only=True),
            styled=_styled(),
        ),
    )
