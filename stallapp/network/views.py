"""Settings of the network pages: a group's listing and framing sites, and the site's name."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from stallapp.accounts.models import Group
from stallapp.errors import StallError
from stallapp.events import services as event_services
from stallapp.extensions import db
from stallapp.i18n import regional_locale
from stallapp.network import services
from stallapp.network.forms import PublicPageSettingsForm, SiteSettingsForm
from stallapp.permissions import admin_required, organiser_required
from stallapp.public.network import event_link
from stallapp.urls import absolute_url

bp = Blueprint("network", __name__)

#: Height of the suggested frame, in pixels: about four events on a phone.
SNIPPET_FRAME_HEIGHT = 480


def _feed_links(group: Group) -> dict[str, str]:
    """The absolute addresses a group's web site can use."""
    slug = {"group_slug": group.slug}
    return {
        "page": absolute_url("public_events.group_page", **slug),
        "calendar": absolute_url("public_events.group_calendar", **slug),
        "json": absolute_url("public_feeds.group_events_json", **slug),
        "atom": absolute_url("public_feeds.group_events_atom", **slug),
        "embed_events": absolute_url("public_feeds.embed_events", **slug),
        "embed_publications": absolute_url("public_feeds.embed_publications", **slug),
    }


@bp.route("/groups/<group_slug>/public-pages", methods=["GET", "POST"])
@organiser_required
def public_pages(group: Group):
    """Choose where the group's events appear beyond its own pages, with snippets to copy."""
    settings = services.public_page_settings(db.session, group)
    form = PublicPageSettingsForm(
        data={
            "listed_on_network": settings.listed_on_network if settings else False,
            "embed_origins": settings.embed_origins if settings else "",
        }
    )
    if form.validate_on_submit():
        try:
            services.save_public_page_settings(
                db.session,
                group,
                listed_on_network=form.listed_on_network.data,
                embed_origins=form.embed_origins.data or "",
            )
        except StallError as error:
            db.session.rollback()
            form.embed_origins.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("network.public_pages", group_slug=group.slug))
    events = event_services.upcoming_public_events(db.session, group)
    return render_template(
        "network/public_pages.html",
        group=group,
        form=form,
        links=_feed_links(group),
        frame_height=SNIPPET_FRAME_HEIGHT,
        list_snippet=_list_snippet(group, events),
    )


def _list_snippet(group: Group, events) -> str:
    """Render the events list as the group's own site would show it: in the group's language."""
    with force_locale(regional_locale(group.language, group)):
        return render_template(
            "public/_embed_events_list.html", events=events, event_link=event_link
        )


@bp.route("/admin/network", methods=["GET", "POST"])
@admin_required
def site():
    """Set the site's name and the text at the top of the network's pages."""
    settings = services.site_settings(db.session)
    form = SiteSettingsForm(data={"name": settings.name, "intro": settings.intro})
    if form.validate_on_submit():
        services.save_site_settings(
            db.session, name=form.name.data or "", intro=form.intro.data or ""
        )
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("network.site"))
    return render_template(
        "network/site.html",
        form=form,
        events_link=absolute_url("public_network.events"),
        publications_link=absolute_url("public_network.publications"),
        listed=services.listed_groups(db.session),
    )
