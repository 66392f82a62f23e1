"""The rota: members' "My shifts", organisers' rota pages, cover, and the calendar feed."""

from datetime import date, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from stallapp.accounts.models import Group
from stallapp.database import utcnow
from stallapp.errors import StallError
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.permissions import (
    get_in_group_or_404,
    login_required,
    member_required,
    organiser_required,
)
from stallapp.rota import calendar, emails, lists, shifts, unavailability
from stallapp.rota import cover as covering
from stallapp.rota.forms import (
    AssignForm,
    CopyRotaForm,
    CoverForm,
    MessageForm,
    RangeForm,
    ShiftForm,
    StallDayForm,
    UnavailableForm,
    WithdrawForm,
)
from stallapp.rota.models import Assignment, Shift, ShiftRole
from stallapp.times import local_day_start, utc_to_local
from stallapp.urls import absolute_url

bp = Blueprint("rota", __name__)

#: My shifts shows this many later shifts and open shifts unfolded; the rest fold away, so the
#: page stays a few screens long on a phone.
SHOWN_LATER = 3
SHOWN_OPEN = 5
#: How far ahead the group rota looks when no range is given.
DEFAULT_RANGE = timedelta(days=60)
#: A shift's people, as "With: ..." lists them: loaded with the shift, not one by one.
SHIFT_PEOPLE = (selectinload(Shift.active_assignments).joinedload(Assignment.user),)


def _own_assignment_or_404(assignment_id: int) -> Assignment:
    return shifts.own_assignment(db.session, assignment_id, current_user) or abort(404)


def _assignment_in_group_or_404(assignment_id: int, group: Group) -> Assignment:
    return shifts.assignment_in_group(db.session, assignment_id, group.id) or abort(404)


def _event_rota_url(shift_or_event) -> str:
    event = shift_or_event.event if isinstance(shift_or_event, Shift) else shift_or_event
    return url_for("rota.event_rota", group_slug=event.group.slug, event_id=event.id)


# Members


def _my_shifts_page(failed_form=None, failed_assignment_id=None, unavailable_form=None):
    assignments = lists.my_assignments(db.session, current_user)
    group_ids = {a.shift.group_id for a in assignments}

    def form_for(form_class, assignment_id):
        """The form a shift's card shows: the one that failed there, else an empty one."""
        if assignment_id == failed_assignment_id and isinstance(failed_form, form_class):
            form = failed_form
        else:
            form = form_class(formdata=None)
        return form.numbered(assignment_id)

    return render_template(
        "rota/my_shifts.html",
        assignments=assignments,
        open_shifts=lists.open_shifts(db.session, current_user),
        cover_wanted=covering.cover_wanted(db.session, current_user),
        organisers=lists.organisers_by_group(db.session, group_ids),
        cover_asked=covering.cover_asked_for(db.session, assignments),
        withdraw_forms={a.id: form_for(WithdrawForm, a.id) for a in assignments},
        cover_forms={a.id: form_for(CoverForm, a.id) for a in assignments},
        unavailable_form=unavailable_form or UnavailableForm(formdata=None),
        unavailable=unavailability.unavailable_days(db.session, current_user),
        **_feed_links(),
        button_form=EmptyForm(),
        shown_later=SHOWN_LATER,
        shown_open=SHOWN_OPEN,
    )


def _feed_links() -> dict:
    """The member's calendar link as shown on My shifts: its https and webcal forms, whether
    they have one at all, and None for a link that cannot be shown again."""
    has_feed, token = calendar.feed_link(db.session, current_user, current_app.config["SECRET_KEY"])
    url = absolute_url("rota.calendar_feed", token=token) if token else None
    return {
        "has_feed": has_feed,
        "feed_url": url,
        "webcal_url": "webcal://" + url.split("://", 1)[1] if url else None,
    }


@bp.route("/my-shifts")
@login_required
def my_shifts():
    """Show the member's next shift, the rest, open shifts to sign up for, and their settings."""
    return _my_shifts_page()


@bp.route("/groups/<group_slug>/rota/shifts/<int:shift_id>/sign-up", methods=["POST"])
@member_required
def sign_up(group: Group, shift_id: int):
    """Put the member on an open shift in one tap."""
    shift = get_in_group_or_404(Shift, shift_id, group)
    if EmptyForm().validate_on_submit():
        try:
            assignment = shifts.sign_up(db.session, shift, current_user)
            warnings = shifts.assignment_warnings(db.session, shift, current_user)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            title = shifts.shift_title(assignment.shift)
            db.session.commit()
            flash(_("You are on “%(shift)s”.", shift=title), "success")
            for warning in warnings:
                flash(warning, "info")
    return redirect(url_for("rota.my_shifts"))


@bp.route("/my-shifts/<int:assignment_id>/withdraw", methods=["POST"])
@login_required
def withdraw(assignment_id: int):
    """Take the member off one of their shifts, with a reason."""
    assignment = _own_assignment_or_404(assignment_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _my_shifts_page(failed_form=form, failed_assignment_id=assignment.id), 400
    try:
        late = shifts.withdraw(db.session, assignment, form.reason.data)
    except StallError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("rota.my_shifts"))
    organisers = lists.organisers_of(db.session, assignment.shift.group_id) if late else []
    title = shifts.shift_title(assignment.shift)
    if late:
        emails.late_withdrawal(assignment, organisers)
    db.session.commit()
    flash(_("You are off “%(shift)s”.", shift=title), "success")
    return redirect(url_for("rota.my_shifts"))


@bp.route("/my-shifts/<int:assignment_id>/cover", methods=["POST"])
@login_required
def ask_cover(assignment_id: int):
    """Offer the member's place on a shift to the rest of the group."""
    assignment = _own_assignment_or_404(assignment_id)
    form = CoverForm()
    if not form.validate_on_submit():
        return _my_shifts_page(failed_form=form, failed_assignment_id=assignment.id), 400
    try:
        cover_request, members = covering.ask_for_cover(db.session, assignment, form.message.data)
    except StallError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("rota.my_shifts"))
    organisers = lists.organisers_of(db.session, assignment.shift.group_id)
    emails.cover_asked(cover_request, members)
    emails.cover_organisers_told(cover_request, organisers)
    db.session.commit()
    flash(_("The group is asked. You stay on the shift until someone takes it over."), "success")
    return redirect(url_for("rota.my_shifts"))


@bp.route("/groups/<group_slug>/rota/cover/<int:cover_request_id>", methods=["GET", "POST"])
@member_required
def cover(group: Group, cover_request_id: int):
    """Show a shift offered for cover, and take it over in one tap."""
    cover_request = covering.cover_request_in_group(
        db.session, cover_request_id, group.id
    ) or abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            covering.take_cover(db.session, cover_request, current_user)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(
                url_for("rota.cover", group_slug=group.slug, cover_request_id=cover_request_id)
            )
        organisers = lists.organisers_of(db.session, group.id)
        title = shifts.shift_title(cover_request.assignment.shift)
        emails.cover_taken(cover_request, organisers)
        db.session.commit()
        flash(_("You are on “%(shift)s”. Thank you!", shift=title), "success")
        return redirect(url_for("rota.my_shifts"))
    return render_template(
        "rota/cover.html",
        group=group,
        cover_request=cover_request,
        shift=cover_request.assignment.shift,
        form=form,
    )


@bp.route("/my-shifts/unavailable", methods=["POST"])
@login_required
def add_unavailable():
    """Mark a day the member cannot do shifts."""
    form = UnavailableForm()
    if form.validate_on_submit():
        try:
            unavailability.mark_unavailable(db.session, current_user, form.day.data, form.note.data)
        except StallError as error:
            db.session.rollback()
            form.day.errors = [*form.day.errors, error.message]
        else:
            db.session.commit()
            flash(
                _("Marked: you are unavailable on %(day)s.", day=form.day.data.isoformat()),
                "success",
            )
            return redirect(url_for("rota.my_shifts") + "#unavailable")
    return _my_shifts_page(unavailable_form=form), 400


@bp.route("/my-shifts/unavailable/<int:unavailability_id>/delete", methods=["POST"])
@login_required
def remove_unavailable(unavailability_id: int):
    """Forget one of the member's unavailable days."""
    unavailable = unavailability.unavailable_day(
        db.session, current_user, unavailability_id
    ) or abort(404)
    if EmptyForm().validate_on_submit():
        unavailability.forget_unavailable(db.session, unavailable)
        db.session.commit()
        flash(_("That day is open again."), "success")
    return redirect(url_for("rota.my_shifts") + "#unavailable")


@bp.route("/my-shifts/calendar", methods=["POST"])
@login_required
def new_feed():
    """Make the member's secret calendar link, unless they have one (it is never replaced here:
    that would break every calendar already subscribed to it)."""
    if EmptyForm().validate_on_submit():
        calendar.ensure_feed_token(db.session, current_user, current_app.config["SECRET_KEY"])
        db.session.commit()
    return redirect(url_for("rota.my_shifts") + "#calendar")


@bp.route("/my-shifts/calendar/replace", methods=["POST"])
@login_required
def replace_feed():
    """Replace the member's calendar link: the old one stops working at once."""
    if EmptyForm().validate_on_submit():
        calendar.regenerate_feed_token(db.session, current_user, current_app.config["SECRET_KEY"])
        db.session.commit()
        flash(
            _(
                "Your calendar link is replaced. The old one no longer works: add the new one "
                "to your calendar app."
            ),
            "success",
        )
    return redirect(url_for("rota.my_shifts") + "#calendar")


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str):
    """Serve a member's shifts as a calendar; the secret token in the URL is the only key."""
    user = calendar.user_for_feed_token(db.session, token) or abort(404)
    body = calendar.build_feed(
        user.name,
        calendar.feed_assignments(db.session, user),
        absolute_url("rota.my_shifts"),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="shifts.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# Organisers


def _range_of(group: Group) -> tuple[RangeForm, date, date]:
    """Read the rota's date range from the query string; the next 60 days when absent or bad."""
    today = utc_to_local(utcnow(), group.timezone).date()
    if request.args:
        form = RangeForm(request.args)
        if form.validate():
            return form, form.start.data, form.end.data
    else:
        form = RangeForm(formdata=None)
        form.start.data, form.end.data = today, today + DEFAULT_RANGE
    return form, today, today + DEFAULT_RANGE


@bp.route("/groups/<group_slug>/rota")
@organiser_required
def group_rota(group: Group):
    """Show the group's shifts over a date range, gaps first, and its events to plan."""
    form, first_day, last_day = _range_of(group)
    start = local_day_start(first_day, group.timezone)
    end = local_day_start(last_day + timedelta(days=1), group.timezone)
    # Without a chosen range, only the shifts still to come: not this morning's, now over.
    shift_start = start if request.args else max(start, utcnow())
    rota = lists.group_rota(db.session, group, shift_start, end)
    events = lists.events_between(db.session, group, start, end)
    return render_template(
        "rota/group_rota.html",
        group=group,
        form=form,
        shifts=rota,
        events=events,
        unavailable=unavailability.unavailable_between(db.session, group.id, first_day, last_day),
    )


@bp.route("/groups/<group_slug>/rota/events/<int:event_id>")
@organiser_required
def event_rota(group: Group, event_id: int):
    """Show an event's shifts with who is on them, gaps first, and the tools to build the rota."""
    event = get_in_group_or_404(Event, event_id, group)
    return render_template(
        "rota/event_rota.html",
        group=group,
        event=event,
        shifts=lists.event_rota(db.session, event),
        unavailable=unavailability.unavailable_during(db.session, event),
        button_form=EmptyForm(),
    )


def _shift_form_page(group, event, form, shift=None):
    return render_template("rota/shift_form.html", group=group, event=event, form=form, shift=shift)


@bp.route("/groups/<group_slug>/rota/events/<int:event_id>/shifts/new", methods=["GET", "POST"])
@organiser_required
def new_shift(group: Group, event_id: int):
    """Add a shift to an event, with times in the event's zone."""
    event = get_in_group_or_404(Event, event_id, group)
    form = ShiftForm()
    if request.method == "GET":
        form.day.data = utc_to_local(event.starts_at, event.timezone).date()
    if form.validate_on_submit():
        instants = form.instants(event.timezone)
        if instants is not None:
            try:
                shifts.add_shift(
                    db.session,
                    event,
                    ShiftRole(form.role.data),
                    *instants,
                    **form.details(),
                )
            except StallError as error:
                db.session.rollback()
                form.start.errors = [*form.start.errors, error.message]
            else:
                db.session.commit()
                flash(_("Shift added."), "success")
                return redirect(_event_rota_url(event))
    return _shift_form_page(group, event, form)


@bp.route("/groups/<group_slug>/rota/events/<int:event_id>/stall-day", methods=["GET", "POST"])
@organiser_required
def stall_day(group: Group, event_id: int):
    """Fill a stall day from the template: set-up, staffing blocks, pack-down."""
    event = get_in_group_or_404(Event, event_id, group)
    form = StallDayForm()
    if form.validate_on_submit():
        try:
            added = shifts.fill_stall_day(db.session, event, **form.template())
        except StallError as error:
            db.session.rollback()
            form.block.errors = [*form.block.errors, error.message]
        else:
            db.session.commit()
            flash(_("%(count)d shifts added. Now put people on them.", count=len(added)), "success")
            return redirect(_event_rota_url(event))
    return render_template("rota/stall_day.html", group=group, event=event, form=form)


@bp.route("/groups/<group_slug>/rota/events/<int:event_id>/copy", methods=["GET", "POST"])
@organiser_required
def copy(group: Group, event_id: int):
    """Copy another event's shifts to this one, at the same times relative to its start."""
    event = get_in_group_or_404(Event, event_id, group)
    form = CopyRotaForm()
    form.offer(lists.rotas_to_copy(db.session, event))
    if form.validate_on_submit():
        source = get_in_group_or_404(Event, form.source_id.data, group)
        try:
            copied = shifts.copy_rota(db.session, source, event)
        except StallError as error:
            db.session.rollback()
            form.source_id.errors = [*form.source_id.errors, error.message]
        else:
            db.session.commit()
            flash(_("%(count)d shifts copied.", count=len(copied)), "success")
            return redirect(_event_rota_url(event))
    return render_template("rota/copy.html", group=group, event=event, form=form)


@bp.route("/groups/<group_slug>/rota/events/<int:event_id>/message", methods=["GET", "POST"])
@organiser_required
def message(group: Group, event_id: int):
    """Email everyone on the event's shifts (e.g. "the venue changed")."""
    event = get_in_group_or_404(Event, event_id, group)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            sent = emails.event_message(
                db.session, event, current_user, form.subject.data, form.body.data
            )
        except StallError as error:
            db.session.rollback()
            form.body.errors = [*form.body.errors, error.message]
        else:
            db.session.commit()
            flash(_("Message sent to %(count)d people.", count=sent), "success")
            return redirect(_event_rota_url(event))
    people = lists.people_on_event(db.session, event)
    return render_template("rota/message.html", group=group, event=event, form=form, people=people)


@bp.route("/groups/<group_slug>/rota/shifts/<int:shift_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_shift(group: Group, shift_id: int):
    """Change a shift; the people on it are told."""
    shift = get_in_group_or_404(Shift, shift_id, group)
    event = shift.event
    form = ShiftForm()
    if request.method == "GET":
        form.fill_from(shift, event.timezone)
    if form.validate_on_submit():
        instants = form.instants(event.timezone)
        if instants is not None:
            try:
                changed = shifts.update_shift(
                    db.session,
                    shift,
                    ShiftRole(form.role.data),
                    *instants,
                    **form.details(),
                )
            except StallError as error:
                db.session.rollback()
                form.start.errors = [*form.start.errors, error.message]
            else:
                people = [a.user for a in shift.active_assignments]
                if changed and people:
                    emails.shift_changed(shift, people)
                db.session.commit()
                flash(_("Shift saved."), "success")
                if changed and people:
                    flash(_("The %(count)d people on it were told.", count=len(people)), "info")
                return redirect(_event_rota_url(event))
    return _shift_form_page(group, event, form, shift)


@bp.route("/groups/<group_slug>/rota/shifts/<int:shift_id>/cancel", methods=["POST"])
@organiser_required
def cancel_shift(group: Group, shift_id: int):
    """Cancel a shift; the people on it are told."""
    shift = get_in_group_or_404(Shift, shift_id, group)
    if EmptyForm().validate_on_submit():
        people = shifts.cancel_shift(db.session, shift)
        if people:
            emails.shift_cancelled(shift, people)
        db.session.commit()
        flash(_("Shift cancelled."), "success")
    return redirect(_event_rota_url(shift))


@bp.route("/groups/<group_slug>/rota/shifts/<int:shift_id>/assign", methods=["GET", "POST"])
@organiser_required
def assign(group: Group, shift_id: int):
    """Put a member of the group on a shift, after showing any warnings."""
    shift = get_in_group_or_404(Shift, shift_id, group, *SHIFT_PEOPLE)
    form = AssignForm()
    form.offer(unavailability.members_to_assign(db.session, group, shift))
    warnings = []
    if form.validate_on_submit():
        user = shifts.group_member(db.session, group.id, form.user_id.data) or abort(404)
        warnings = shifts.assignment_warnings(db.session, shift, user)
        if warnings and form.confirmed.data != str(user.id):
            form.confirmed.data = str(user.id)
        else:
            try:
                assignment = shifts.assign(db.session, shift, user, current_user)
            except StallError as error:
                db.session.rollback()
                form.user_id.errors = [*form.user_id.errors, error.message]
                warnings = []
            else:
                emails.assigned(assignment)
                db.session.commit()
                flash(_("%(name)s is on the shift and was emailed.", name=user.name), "success")
                return redirect(_event_rota_url(shift))
    return render_template(
        "rota/assign.html", group=group, shift=shift, form=form, warnings=warnings
    )


@bp.route("/groups/<group_slug>/rota/assignments/<int:assignment_id>/remove", methods=["POST"])
@organiser_required
def unassign(group: Group, assignment_id: int):
    """Take a member off a shift; they are emailed."""
    assignment = _assignment_in_group_or_404(assignment_id, group)
    if EmptyForm().validate_on_submit():
        try:
            shifts.unassign(db.session, assignment, current_user)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            name = assignment.user.name
            emails.unassigned(assignment)
            db.session.commit()
            flash(_("%(name)s is off the shift and was emailed.", name=name), "success")
    return redirect(_event_rota_url(assignment.shift))
