"""Organisers write to their group's mailing list: draft, preview, test, send, then counts."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from stallapp.accounts.models import Group
from stallapp.announcements import services
from stallapp.announcements.forms import AnnouncementForm
from stallapp.announcements.models import Announcement
from stallapp.errors import StallError
from stallapp.events.display import event_when
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.permissions import get_in_group_or_404, organiser_required

bp = Blueprint("announcements", __name__, url_prefix="/groups/<group_slug>/announcements")


def _detail_url(announcement: Announcement) -> str:
    return url_for(
        "announcements.show",
        group_slug=announcement.group.slug,
        announcement_id=announcement.id,
    )


def _text(form: AnnouncementForm) -> services.AnnouncementText:
    return services.AnnouncementText(
        subject=form.subject.data,
        body=form.body.data,
        reply_to=form.reply_to.data or "",
        event_id=form.chosen_event_id,
    )


def _form_page(group: Group, form: AnnouncementForm, announcement: Announcement | None = None):
    return render_template(
        "announcements/form.html", group=group, form=form, announcement=announcement
    )


@bp.route("/")
@organiser_required
def index(group: Group):
    """List the group's announcements with their counts."""
    return render_template(
        "announcements/index.html",
        group=group,
        announcements=services.announcements_of(db.session, group),
        subscribers=services.subscriber_count(db.session, group),
    )


@bp.route("/new", methods=["GET", "POST"])
@organiser_required
def new(group: Group):
    """Write an announcement (pre-filled when it comes from an event's page)."""
    form = AnnouncementForm()
    form.set_events(services.announceable_events(db.session, group))
    if request.method == "GET":
        event_id = request.args.get("event_id", type=int)
        if event_id:
            event = get_in_group_or_404(Event, event_id, group)
            form.event_id.data = event.id
            form.subject.data = event.title
            form.body.data = _(
                "Hello,\n\nJoin us at %(title)s, %(when)s.\n",
                title=event.title,
                when=event_when(event),
            )
    if form.validate_on_submit():
        try:
            announcement = services.save_draft(db.session, group, current_user, _text(form))
        except StallError as error:
            db.session.rollback()
            form.event_id.errors = [*form.event_id.errors, error.message]
        else:
            db.session.commit()
            return redirect(_detail_url(announcement))
    return _form_page(group, form)


@bp.route("/<int:announcement_id>")
@organiser_required
def show(group: Group, announcement_id: int):
    """Preview a draft (with test and send buttons), or see a sent one's counts."""
    announcement = get_in_group_or_404(Announcement, announcement_id, group)
    return render_template(
        "announcements/show.html",
        group=group,
        announcement=announcement,
        preview=services.render_body(announcement, None),
        subscribers=services.subscriber_count(db.session, group),
        form=EmptyForm(),
    )


@bp.route("/<int:announcement_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit(group: Group, announcement_id: int):
    """Change a draft announcement."""
    announcement = get_in_group_or_404(Announcement, announcement_id, group)
    if not announcement.is_draft:
        flash(_("This announcement has already been sent."), "info")
        return redirect(_detail_url(announcement))
    form = AnnouncementForm(
        data={
            "subject": announcement.subject,
            "body": announcement.body,
            "reply_to": announcement.reply_to,
            "event_id": announcement.event_id or 0,
        }
    )
    form.set_events(services.announceable_events(db.session, group))
    if form.validate_on_submit():
        try:
            services.save_draft(db.session, group, current_user, _text(form), announcement)
        except StallError as error:
            db.session.rollback()
            form.event_id.errors = [*form.event_id.errors, error.message]
        else:
            db.session.commit()
            return redirect(_detail_url(announcement))
    return _form_page(group, form, announcement)


@bp.route("/<int:announcement_id>/test", methods=["POST"])
@organiser_required
def send_test(group: Group, announcement_id: int):
    """Email the announcement to yourself alone, to read it as subscribers will."""
    announcement = get_in_group_or_404(Announcement, announcement_id, group)
    if EmptyForm().validate_on_submit():
        services.send_test(db.session, announcement, current_user)
        db.session.commit()
        flash(_("A test was sent to %(email)s.", email=current_user.email), "success")
    return redirect(_detail_url(announcement))


@bp.route("/<int:announcement_id>/send", methods=["POST"])
@organiser_required
def send(group: Group, announcement_id: int):
    """Send the announcement to every confirmed subscriber, through the outbox."""
    announcement = get_in_group_or_404(Announcement, announcement_id, group)
    if EmptyForm().validate_on_submit():
        try:
            count = services.send(db.session, announcement, current_user)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(
                ngettext(
                    "Sending to %(num)d subscriber: it goes out over the next minutes.",
                    "Sending to %(num)d subscribers: it goes out over the next minutes.",
                    count,
                ),
                "success",
            )
    return redirect(_detail_url(announcement))
