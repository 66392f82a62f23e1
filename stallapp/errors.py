"""The errors services raise, and the friendly pages the app answers with."""

import logging

import sqlalchemy as sa
from flask import Flask, g, jsonify, make_response, render_template, request
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
    413: _l("That was too much to send"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Not available just now"),
}

ERROR_EXPLANATIONS = {
    400: _l("The form may have expired. Go back, reload the page and try again."),
    403: _l("Your role in this group does not allow this. Ask an organiser if you need it."),
    404: _l("The address may be mistyped, or the page was removed."),
    405: _l("Go back and use the buttons on the page."),
    413: _l(
        "The form was larger than the site accepts (1 MB). Go back, shorten the text and "
        "send it again."
    ),
    429: _l("Please wait a few minutes before trying again."),
    500: _l("We have been told about it. Please try again in a moment."),
    503: _l(
        "The database cannot be reached. Nothing was lost: try again in a minute. "
        "Sales on the sale screen wait on your phone and are sent when it is back."
    ),
}

#: Errors that mean the database cannot be reached (down, restarting, locked, out of
#: connections), rather than a bug: answered 503 with Retry-After, so phones try again later.
DATABASE_UNAVAILABLE = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,
)
RETRY_AFTER_SECONDS = 30


def render_error(status: int, explanation: str | None = None):
    """Render the friendly page for an HTTP status, with its usual explanation or the one given."""
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=ERROR_TITLES.get(status, ERROR_TITLES[500]),
            explanation=explanation or ERROR_EXPLANATIONS.get(status, ERROR_EXPLANATIONS[500]),
        ),
        status,
    )


def refuse(status: int, message: str, **extra):
    """Answer a refused request saying what was wrong: JSON for a client that speaks it (the sale
    screen's sync), the friendly page for a person."""
    if wants_json():
        return jsonify({"error": message, **extra}), status
    return render_error(status, message)


def database_failed() -> bool:
    """Tell whether this request gave up on the database: nothing may query it any more."""
    return bool(g.get("database_failed"))


def wants_json() -> bool:
    """The sale screen's sync speaks JSON; its errors must too, so the phone can read them."""
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _abandon_database() -> None:
    """Roll the request's transaction back and stop using the database for this response.

    The error page is then rendered from the request alone: asking the database for the
    user's name or groups would fail again (an aborted PostgreSQL transaction, a server that
    is restarting) and leave only a bare "Internal Server Error".
    """
    from stallapp.extensions import db

    g.database_failed = True
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        log.warning("rollback failed while answering an error", exc_info=True)


def render_failure(status: int):
    """Answer 500 or 503 without touching the database: JSON for the phone, else a bare page."""
    title = ERROR_TITLES[status]
    explanation = ERROR_EXPLANATIONS[status]
    if wants_json():
        response = jsonify({"error": str(title), "detail": str(explanation)})
        response.status_code = status
    else:
        page = render_template(
            "errors/failure.html", status=status, title=title, explanation=explanation
        )
        response = make_response(page, status)
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def register_errorhandlers(app: Flask) -> None:
    """Answer HTTP errors with the friendly pages."""

    def handle_http_error(error: HTTPException):
        if error.code in (401, 403):
            log.warning("permission denied: %s %s", request.method, request.path)
        if error.code is None or error.code not in ERROR_TITLES:
            return error
        return render_error(error.code)

    def handle_unexpected(error: Exception):
        original = getattr(error, "original_exception", None) or error
        _abandon_database()
        if isinstance(original, DATABASE_UNAVAILABLE):
            log.error("database unavailable on %s %s: %s", request.method, request.path, original)
            return render_failure(503)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_failure(500)

    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(500, handle_unexpected)
