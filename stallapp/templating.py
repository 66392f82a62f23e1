"""The one place that makes helpers, filters and labels available to every template and email.

Blueprints do not register template helpers of their own, so a name means one thing everywhere.
"""

from flask import Flask, g, has_request_context
from flask_babel import get_locale, get_translations
from flask_login import current_user

from stallapp import display
from stallapp.accounts.forms import ROLE_CHOICES
from stallapp.events import display as event_display
from stallapp.money import format_money
from stallapp.permissions import has_role
from stallapp.rota import display as rota_display
from stallapp.rota import lists as rota_lists
from stallapp.rota import shifts as rota_shifts
from stallapp.sales import display as sale_display
from stallapp.text import meta_description, plain_text_to_html


def register_template_helpers(app: Flask) -> None:
    """Register every template global, filter and test, and the menu's context."""
    env = app.jinja_env
    env.globals.update(
        format_money=format_money,
        has_role=has_role,
        member_role_labels=ROLE_LABELS,
        local_moment=display.local_moment,
        local_day=display.local_day,
        date_range=display.date_range,
        osm_search_url=event_display.osm_search_url,
        event_kind_labels=event_display.KIND_LABELS,
        event_status_labels=event_display.STATUS_LABELS,
        registration_status_labels=event_display.REGISTRATION_STATUS_LABELS,
        sale_kind_labels=sale_display.KIND_LABELS,
        payment_labels=sale_display.PAYMENT_LABELS,
        shift_when=rota_display.shift_when,
        shift_place=rota_display.shift_place,
        fill_label=rota_display.fill_label,
        fill_state=rota_lists.fill_state,
        role_name=rota_shifts.role_name,
        shift_title=rota_shifts.shift_title,
        shift_zone_label=display.zone_label,
        rota_event_when=rota_display.event_when,
        shift_role_labels={role.value: label for role, label in rota_shifts.ROLE_LABELS.items()},
    )
    env.filters.update(
        # Plain text typed by organisers: escaped, line breaks kept, http(s) links clickable.
        linkify=plain_text_to_html,
        meta_description=meta_description,
        event_when=event_display.event_when,
        event_day=event_display.event_day,
        event_place=event_display.event_place,
        published_online_url=event_display.published_online_url,
        online_note=event_display.online_note,
        zone_label=display.zone_label,
        local_time=display.local_time,
        local_day_and_time=display.local_day_and_time,
    )
    env.tests["online_event"] = event_display.is_online
    env.install_gettext_callables(
        gettext=lambda text: _translations().ugettext(text),
        ngettext=lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        pgettext=lambda context, text: _translations().upgettext(context, text),
        npgettext=lambda context, singular, plural, n: _translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
    app.context_processor(navigation)


def _translations():
    """Flask-Babel's translations for the locale in force, kept on its own per-request context.

    Flask-Babel finds them anew for each string, in a dozen lookups of ``g``; the sale screen
    has a hundred strings. They are kept with the locale object they are for, so a block under
    ``force_locale`` (an email to someone else) and the page after it each get their own.
    """
    context = g.get("_flask_babel")
    locale = getattr(context, "babel_locale", None)
    if locale is None:
        return get_translations()
    kept = getattr(context, "stallapp_translations", None)
    if kept is None or kept[0] is not locale:
        kept = (locale, get_translations())
        context.stallapp_translations = kept
    return kept[1]


#: How a member's role in a group reads, keyed by its stored value.
ROLE_LABELS = {choice.value: choice.label for choice in ROLE_CHOICES}


def navigation() -> dict:
    """The menu's groups and the page language, for every page."""
    from stallapp.accounts.services import groups_of
    from stallapp.errors import database_failed
    from stallapp.extensions import db

    # Emails rendered by a command (send-reminders) have no request, hence no current user.
    # After a database failure the error page is drawn without asking the database.
    signed_in = has_request_context() and not database_failed() and current_user.is_authenticated
    if not signed_in:
        user_groups = []
    elif "user_groups" in g:
        user_groups = g.user_groups  # the group permission check read them already
    else:
        user_groups = groups_of(db.session, current_user)
    return {"nav_groups": user_groups, "current_locale": str(get_locale()).replace("_", "-")}
