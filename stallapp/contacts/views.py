"""The organisers' side of contacts: who the group knows, the inbox, the mailing-list export
and how long personal data is kept."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from stallapp.accounts.models import Group
from stallapp.contacts import privacy, services
from stallapp.contacts.forms import RetentionForm
from stallapp.contacts.models import ContactMessage, MessageStatus
from stallapp.csv_export import csv_response
from stallapp.database import writes
from stallapp.errors import StallError
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.permissions import get_in_group_or_404, organiser_required

bp = Blueprint("contacts", __name__, url_prefix="/groups/<group_slug>/contacts")


@bp.route("/")
@organiser_required
def index(group: Group):
    """List everyone who joined, registered or wrote, with their consent and origin."""
    search = request.args.get("q", "")
    page = services.clamp_page(request.args.get("page", 1, type=int) or 1)
    rows, has_more = services.contacts_of(db.session, group, search=search, page=page)
    return render_template(
        "contacts/index.html",
        group=group,
        rows=rows,
        search=search,
        page=page,
        has_more=has_more,
        unread=services.inbox_counts(db.session, group)["unread"],
    )


@bp.route("/messages")
@organiser_required
def messages(group: Group):
    """Read the messages sent through the group's contact form, by status."""
    try:
        status = MessageStatus(request.args.get("status", MessageStatus.UNREAD.value))
    except ValueError:
        status = MessageStatus.UNREAD
    return render_template(
        "contacts/messages.html",
        group=group,
        status=status,
        messages=services.inbox(db.session, group, status),
        counts=services.inbox_counts(db.session, group),
    )


@bp.route("/messages/<int:message_id>")
@organiser_required
@writes
def message(group: Group, message_id: int):
    """Read one message; opening it marks it read."""
    found = get_in_group_or_404(ContactMessage, message_id, group)
    services.open_message(db.session, found)
    db.session.commit()
    return render_template("contacts/message.html", group=group, message=found, form=EmptyForm())


def _change_status(group: Group, message_id: int, status: MessageStatus, notice: str):
    found = get_in_group_or_404(ContactMessage, message_id, group)
    form = EmptyForm()
    if form.validate_on_submit():
        services.set_message_status(db.session, found, status)
        db.session.commit()
        flash(notice, "success")
    return redirect(url_for("contacts.messages", group_slug=group.slug))


@bp.route("/messages/<int:message_id>/archive", methods=["POST"])
@organiser_required
def archive_message(group: Group, message_id: int):
    """Move a message out of the inbox into the archive."""
    return _change_status(group, message_id, MessageStatus.ARCHIVED, _("Message archived."))


@bp.route("/messages/<int:message_id>/restore", methods=["POST"])
@organiser_required
def restore_message(group: Group, message_id: int):
    """Bring an archived message back among the read ones."""
    return _change_status(group, message_id, MessageStatus.READ, _("Message back in the inbox."))


@bp.route("/messages/<int:message_id>/unread", methods=["POST"])
@organiser_required
def mark_unread(group: Group, message_id: int):
    """Mark a message unread again, to come back to it."""
    return _change_status(group, message_id, MessageStatus.UNREAD, _("Message marked unread."))


@bp.route("/mailing-list.csv")
@organiser_required
def export(group: Group):
    """Download the contacts who confirmed they want mailings, as CSV."""
    header, rows = services.mailing_list_export(db.session, group)
    return csv_response(f"{group.slug}-mailing-list.csv", header, rows)


@bp.route("/retention", methods=["GET", "POST"])
@organiser_required
def retention(group: Group):
    """Choose how long the group keeps contacts and registrations."""
    policy = privacy.retention_policy(db.session, group)
    form = RetentionForm(obj=policy)
    if form.validate_on_submit():
        try:
            privacy.save_retention_policy(
                db.session,
                group,
                contact_months=form.contact_months.data,
                registration_months=form.registration_months.data,
            )
        except StallError as error:
            db.session.rollback()
            form.contact_months.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Retention periods saved."), "success")
            return redirect(url_for("contacts.retention", group_slug=group.slug))
    return render_template("contacts/retention.html", group=group, form=form)
