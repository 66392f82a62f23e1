"""Which language and time zone a response is written in."""

from flask import current_app, g, has_request_context, request
from flask_login import current_user


def select_locale() -> str:
    """The user's own setting when logged in, the group's language on its public pages, else the
    browser's preference among the languages we have."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    public_group = g.get("public_group")
    if public_group is not None:
        return public_group.language
    return (
        request.accept_languages.best_match(current_app.config["LANGUAGES"])
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_timezone() -> str:
    """The time zone of the group the page is about; UTC elsewhere."""
    group = g.get("group") or g.get("public_group")
    if group is not None:
        return group.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
