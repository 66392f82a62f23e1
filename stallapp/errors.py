"""The errors services raise, and the friendly pages the app answers with."""

import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class StallError(Exception):
    """A business rule said no: ``code`` is stable for callers, ``message`` is for people."""

    code = "error"
    default_message = _l("That could not be done.")

    def __init__(self, message: str | None = None, code: str | None = None):
        self.message = message if message is not None else str(self.default_message)
        if code is not None:
            self.code = code
        super().__init__(self.message)


class NotAllowed(StallError):
    code = "not_allowed"
    default_message = _l("You are not allowed to do that.")


class NotFound(StallError):
    code = "not_found"
    default_message = _l("That does not exist.")


class InvalidToken(StallError):
    code = "invalid_token"
    default_message = _l("This link is invalid, has expired or has already been used.")


class ValidationFailed(StallError):
    code = "invalid"


class EventClosed(StallError):
    """The event was closed out: nothing can be sold or undone there until it is reopened."""

    code = "event_closed"
    default_message = _l("This event is closed out: reopen it to record or undo sales.")


ERROR_TITLES = {
    400: _l("That request did not make sense"),
    403: _l("You cannot see this page"),
    404: _l("Page not found"),
    405: _l("That is not allowed here"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}

ERROR_EXPLANATIONS = {
    400: _l("The form may have expired. Go back, reload the page and try again."),
    403: _l("Your role in this group does not allow this. Ask an organiser if you need it."),
    404: _l("The address may be mistyped, or the page was removed."),
    405: _l("Go back and use the buttons on the page."),
    429: _l("Please wait a few minutes before trying again."),
    500: _l("We have been told about it. Please try again in a moment."),
}


def render_error(status: int):
    """Render the friendly page for an HTTP status."""
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=ERROR_TITLES.get(status, ERROR_TITLES[500]),
            explanation=ERROR_EXPLANATIONS.get(status, ERROR_EXPLANATIONS[500]),
        ),
        status,
    )


def register_errorhandlers(app: Flask) -> None:
    """Answer HTTP errors with the friendly pages."""

    def handle_http_error(error: HTTPException):
        if error.code in (401, 403):
            log.warning("permission denied: %s %s", request.method, request.path)
        if error.code is None or error.code not in ERROR_TITLES:
            return error
        return render_error(error.code)

    def handle_unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)

    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(500, handle_unexpected)
