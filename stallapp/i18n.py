"""Which language and time zone a response is written in."""

from babel import Locale, UnknownLocaleError
from flask import current_app, g, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

#: The country whose conventions (day before month, 24-hour clock, currency sign) a group's
#: currency implies, so that a UK group reads "Saturday, 19 October 2024, 10:00" and not the
#: American "Saturday, October 19, 2024, 10:00 AM". The words still come from the language's
#: catalogue: gettext falls back from ``en_GB`` to ``en``.
CURRENCY_TERRITORIES = {"GBP": "GB", "USD": "US", "CAD": "CA", "AUD": "AU", "EUR": "IE"}


def regional_locale(language: str, group) -> str:
    """Return ``language`` with the territory of ``group``'s currency, when Babel knows it."""
    territory = CURRENCY_TERRITORIES.get(group.currency) if group is not None else None
    if territory is None or "_" in language:
        return language
    candidate = f"{language}_{territory}"
    try:
        Locale.parse(candidate)
    except (UnknownLocaleError, ValueError):
        return language
    return candidate


def group_locale(group, language: str | None = None) -> str:
    """Return the locale for writing to someone of ``group`` (an email, a reminder): their own
    ``language`` or the group's, with the group's regional conventions, as its pages use."""
    return regional_locale(language or group.language, group)


def _first_group_of_user():
    """The user's first group, whose conventions their own pages (My shifts, their account)
    follow, so a UK member reads 24-hour times there as on the group's pages."""
    memberships = current_user.memberships  # loaded with the login (accounts.services)
    first = min(memberships, key=lambda membership: membership.id, default=None)
    return first.group if first is not None else None


def money_locales(group) -> list[str]:
    """Return the locales an amount typed on ``group``'s pages is read in: the group's regional
    conventions first (``1.234,50`` in Italy), then the page's own, when it has one."""
    locales = [regional_locale(group.language, group)] if group is not None else []
    if has_request_context():
        page = str(get_locale())
        if page not in locales:
            locales.append(page)
    return locales


def select_locale() -> str:
    """The user's own setting when logged in, the group's language on its public pages, else the
    browser's preference among the languages we have; with the group's regional conventions."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    group = g.get("group") or g.get("public_group")
    if g.get("database_failed"):
        # The user's setting would be read from the database that just failed (a loaded user
        # is expired by the rollback too).
        return request.accept_languages.best_match(current_app.config["LANGUAGES"]) or "en"
    if current_user and current_user.is_authenticated:
        if group is None:
            group = _first_group_of_user()
        if current_user.locale:
            return regional_locale(current_user.locale, group)
    public_group = g.get("public_group")
    if public_group is not None:
        return regional_locale(public_group.language, public_group)
    language = (
        request.accept_languages.best_match(current_app.config["LANGUAGES"])
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )
    return regional_locale(language, group)


def select_timezone() -> str:
    """The time zone of the group the page is about; UTC elsewhere."""
    group = g.get("group") or g.get("public_group")
    if group is not None:
        return group.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
