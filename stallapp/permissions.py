"""The one place that decides who may open which view.

Every view is either listed in :data:`PUBLIC_ENDPOINTS` or wrapped by one of the guards below,
which load the group from the URL, answer 404 to anyone outside it (so its existence does not
leak) and 403 to a member whose role is too low. ``tests/test_permissions_routes.py`` walks
``app.url_map`` and fails on any view that is neither.
"""

import logging
from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import abort, g, has_request_context
from flask_login import current_user

from stallapp.accounts.models import Group, Role
from stallapp.extensions import db, login_manager

log = logging.getLogger(__name__)

#: Endpoints anyone may open without logging in.
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "accounts.login",
        "accounts.forgot_password",
        "accounts.reset_password",
        "accounts.accept_invitation",
        "public_contacts.join",
        "public_contacts.confirm",
        "public_contacts.contact",
        "public_contacts.unsubscribe",
        "public_contacts.unsubscribe_one_click",
        "public_contacts.forget",
        "public_contacts.erase",
        "qr.scan",
        "public_catalogue.publications",
        "sales.service_worker",
        "install.manifest",
        "install.favicon",
        "install.apple_touch_icon",
        "public_events.group_page",
        "public_events.group_calendar",
        "public_events.event_page",
        "public_events.event_calendar",
        "public_events.cancel_registration",
        "public_events.registration_calendar",
        "public_network.events",
        "public_network.events_calendar",
        "public_network.events_feed_json",
        "public_network.events_feed_atom",
        "public_network.publications",
        "public_feeds.group_events_json",
        "public_feeds.group_events_atom",
        "public_feeds.embed_events",
        "public_feeds.embed_publications",
        "rota.calendar_feed",
        "reports.healthz",
    }
)

#: Attribute set on every guarded view, read by the route-walking test.
PERMISSION_ATTRIBUTE = "required_permission"


def _mark(view: Callable, permission: str) -> Callable:
    setattr(view, PERMISSION_ATTRIBUTE, permission)
    return view


def login_required(view: Callable) -> Callable:
    """Let any logged-in user in (their own pages: dashboard, account settings)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return _mark(guarded, "login")


def admin_required(view: Callable) -> Callable:
    """Let site admins in; everyone else logged in gets 403."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            log.warning("denied: user %s is not an admin", current_user.id)
            abort(403)
        return view(*args, **kwargs)

    return _mark(guarded, "admin")


def group_role_required(role: Role) -> Callable[[Callable], Callable]:
    """Load the group named by ``<group_slug>`` and let in its members with at least ``role``.

    The view receives ``group`` instead of ``group_slug``; ``g.group`` and ``g.membership`` are set
    for templates.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, group_slug: str, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            # The user's memberships came with their login (accounts.services), by group name;
            # the menu lists the same groups (g.user_groups).
            memberships = current_user.memberships
            g.user_groups = [(membership.group, membership.role) for membership in memberships]
            membership = next((m for m in memberships if m.group.slug == group_slug), None)
            if membership is None:
                log.warning("denied: user %s is not in group %r", current_user.id, group_slug)
                abort(404)
            group = membership.group
            if not membership.role.allows(role):
                log.warning("denied: user %s is not %s of %r", current_user.id, role, group_slug)
                abort(403)
            g.group = group
            g.membership = membership
            return view(*args, group=group, **kwargs)

        return _mark(guarded, f"group:{role.value}")

    return decorate


def has_role(required: str) -> bool:
    """Tell a template whether the signed-in member holds at least ``required`` ("member",
    "organiser") in the group the page is about: the rule the view's guard applied."""
    membership = g.get("membership") if has_request_context() else None
    return membership is not None and membership.role.allows(Role(required))


member_required = group_role_required(Role.MEMBER)
organiser_required = group_role_required(Role.ORGANISER)


def public_group_or_404(slug: str) -> Group:
    """Load a group for one of its public pages; its language becomes the page's language."""
    group = db.session.scalar(sa.select(Group).where(Group.slug == slug))
    if group is None:
        abort(404)
    g.public_group = group
    return group


def get_in_group_or_404(model: type, object_id: int, group: Group, *options):
    """Return the ``model`` row with ``object_id`` if it belongs to ``group``; 404 otherwise.

    ``options`` (``selectinload(...)``) load what the page shows in the same go.
    """
    found = db.session.scalar(
        sa.select(model).where(model.id == object_id, model.group_id == group.id).options(*options)
    )
    if found is None:
        abort(404)
    return found
