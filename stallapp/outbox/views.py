"""The admins' view of the outbox: counts, what failed and why, "retry"; in development, the
recent messages themselves."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.outbox import services
from stallapp.outbox.models import OutgoingMessage
from stallapp.permissions import admin_required

bp = Blueprint("outbox", __name__, url_prefix="/admin/mail")


def _development() -> bool:
    """Without MAIL_SERVER the mail only reaches a terminal: showing it here harms nobody."""
    return not current_app.config["MAIL_SERVER"]


@bp.route("/")
@admin_required
def index():
    """Show how the mail is going: counts, the messages in trouble and their last error."""
    return render_template(
        "admin/mail.html",
        counts=services.counts(db.session),
        troubled=services.troubled(db.session),
        development=_development(),
        form=EmptyForm(),
    )


@bp.route("/<int:message_id>/retry", methods=["POST"])
@admin_required
def retry(message_id: int):
    """Try a given-up or waiting message again at once."""
    message = db.session.get(OutgoingMessage, message_id) or abort(404)
    if EmptyForm().validate_on_submit():
        if services.retry(db.session, message):
            db.session.commit()
            flash(_("The message will be tried again within a minute."), "success")
        else:
            flash(_("That message is not waiting or given up any more."), "info")
    return redirect(url_for("outbox.index"))


@bp.route("/outbox")
@admin_required
def outbox():
    """List the latest messages with their text (development only: no MAIL_SERVER)."""
    if not _development():
        abort(404)
    return render_template("admin/outbox.html", messages=services.recent(db.session))
