"""The public catalogue page of a group: what it publishes, at what price, and how to order."""

from flask import Blueprint, render_template

from stallapp.extensions import db
from stallapp.permissions import public_group_or_404
from stallapp.stock import public_settings, services

bp = Blueprint("public_catalogue", __name__)

#: Public and the same for everyone, so shared caches may keep it for a few minutes.
CACHE_CONTROL = "public, max-age=300"


@bp.route("/g/<group_slug>/publications")
def publications(group_slug: str):
    """Show the group's active titles with prices in its currency, subscriptions and ordering."""
    group = public_group_or_404(group_slug)
    settings = public_settings.catalogue_settings(db.session, group)
    response = render_template(
        "public/publications.html",
        group=group,
        publications=services.publications_of(db.session, group, active_only=True),
        offers=services.subscription_offers_of(db.session, group, active_only=True),
        how_to_order=settings.how_to_order if settings else "",
    )
    headers = {"Cache-Control": CACHE_CONTROL}
    return response, 200, headers
