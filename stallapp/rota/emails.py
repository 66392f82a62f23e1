"""The rota's emails, each in its reader's language, written to the outbox before the commit of
the change they tell about (so they go if, and only if, it happened)."""

from collections.abc import Callable, Iterable

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from stallapp.accounts.models import Group, User
from stallapp.errors import StallError
from stallapp.events.models import Event
from stallapp.i18n import group_locale
from stallapp.mail import MailPurpose, send_email
from stallapp.rota.display import shift_when
from stallapp.rota.lists import people_on_event
from stallapp.rota.models import Assignment, CoverRequest, Shift
from stallapp.rota.shifts import shift_title
from stallapp.urls import absolute_url


def _send(
    people: Iterable[User],
    group: Group,
    subject: Callable[[], str],
    template: str,
    reply_to: str = "",
    **context,
) -> int:
    """Email each person in their language (the group's when they chose none); return how many."""
    sent = 0
    for person in people:
        with force_locale(group_locale(group, person.locale)):
            send_email(
                person.email,
                subject(),
                render_template(template, person=person, group=group, **context),
                purpose=MailPurpose.ROTA,
                group=group,
                reply_to=reply_to,
            )
        sent += 1
    return sent


def _my_shifts_link() -> str:
    return absolute_url("rota.my_shifts")


def _event_rota_link(shift: Shift) -> str:
    return absolute_url("rota.event_rota", group_slug=shift.group.slug, event_id=shift.event_id)


def assigned(assignment: Assignment) -> None:
    """Tell a member an organiser put them on a shift."""
    shift = assignment.shift
    _send(
        [assignment.user],
        shift.group,
        lambda: _("You are on the rota: %(shift)s", shift=shift_title(shift)),
        "email/rota_assigned.txt",
        shift=shift,
        assignment=assignment,
        link=_my_shifts_link(),
    )


def unassigned(assignment: Assignment) -> None:
    """Tell a member an organiser took them off a shift."""
    shift = assignment.shift
    _send(
        [assignment.user],
        shift.group,
        lambda: _("You are off the rota: %(shift)s", shift=shift_title(shift)),
        "email/rota_unassigned.txt",
        shift=shift,
        link=_my_shifts_link(),
    )


def late_withdrawal(assignment: Assignment, organisers: list[User]) -> None:
    """Tell the organisers someone withdrew less than a day before the start."""
    shift = assignment.shift
    _send(
        organisers,
        shift.group,
        lambda: _(
            "%(name)s cannot do %(shift)s, %(when)s",
            name=assignment.user.name,
            shift=shift_title(shift),
            when=shift_when(shift),
        ),
        "email/rota_withdrawn_late.txt",
        shift=shift,
        assignment=assignment,
        link=_event_rota_link(shift),
    )


def shift_changed(shift: Shift, people: list[User]) -> None:
    """Tell the people on a shift that its time, role or notes changed."""
    _send(
        people,
        shift.group,
        lambda: _("Shift changed: %(shift)s", shift=shift_title(shift)),
        "email/rota_shift_changed.txt",
        shift=shift,
        link=_my_shifts_link(),
    )


def shift_cancelled(shift: Shift, people: list[User]) -> None:
    """Tell the people on a shift that it is cancelled."""
    _send(
        people,
        shift.group,
        lambda: _("Shift cancelled: %(shift)s", shift=shift_title(shift)),
        "email/rota_shift_cancelled.txt",
        shift=shift,
        link=_my_shifts_link(),
    )


class NobodyOnShifts(StallError):
    code = "nobody_on_shifts"
    default_message = _l("Nobody is on this event's shifts yet.")


def event_message(session: Session, event: Event, sender: User, subject: str, body: str) -> int:
    """Send an organiser's message to everyone on an event's live shifts; return how many.

    :raises NobodyOnShifts: when nobody is on them, so there is no one to write to.
    """
    people = people_on_event(session, event)
    if not people:
        raise NobodyOnShifts()
    return _send(
        people,
        event.group,
        lambda: subject,
        "email/rota_message.txt",
        # Answers go to the organiser who wrote, not to the app's address.
        reply_to=sender.email,
        event=event,
        sender=sender,
        body=body,
        link=_my_shifts_link(),
    )


def cover_asked(request: CoverRequest, members: list[User]) -> None:
    """Tell the group's other members that a place is offered, with the link to take it."""
    assignment = request.assignment
    shift = assignment.shift
    _send(
        members,
        shift.group,
        lambda: _(
            "Can you cover %(shift)s, %(when)s?", shift=shift_title(shift), when=shift_when(shift)
        ),
        "email/rota_cover_asked.txt",
        reply_to=assignment.user.email,
        shift=shift,
        cover_request=request,
        asker=assignment.user,
        link=absolute_url("rota.cover", group_slug=shift.group.slug, cover_request_id=request.id),
    )


def cover_taken(request: CoverRequest, organisers: list[User]) -> None:
    """Tell the member who asked, and the organisers, who took the place over."""
    shift = request.assignment.shift
    people = {person.id: person for person in [request.assignment.user, *organisers]}
    _send(
        people.values(),
        shift.group,
        lambda: _(
            "%(name)s is covering %(shift)s", name=request.taken_by.name, shift=shift_title(shift)
        ),
        "email/rota_cover_taken.txt",
        shift=shift,
        cover_request=request,
        link=_my_shifts_link(),
    )


def cover_organisers_told(request: CoverRequest, organisers: list[User]) -> None:
    """Tell the organisers that a member asked for cover."""
    shift = request.assignment.shift
    _send(
        organisers,
        shift.group,
        lambda: _(
            "%(name)s asked for cover: %(shift)s",
            name=request.assignment.user.name,
            shift=shift_title(shift),
        ),
        "email/rota_cover_organisers.txt",
        shift=shift,
        cover_request=request,
        link=_event_rota_link(shift),
    )


def reminder(assignment: Assignment) -> None:
    """Remind a member of their shift, the day before."""
    shift = assignment.shift
    _send(
        [assignment.user],
        shift.group,
        lambda: _(
            "Reminder: %(shift)s, %(when)s", shift=shift_title(shift), when=shift_when(shift)
        ),
        "email/rota_reminder.txt",
        shift=shift,
        others=[a.user for a in shift.active_assignments if a.user_id != assignment.user_id],
        link=_my_shifts_link(),
    )


def shortages(group: Group, shifts: list[Shift], organisers: list[User]) -> int:
    """Tell a group's organisers which shifts in the next three days still need people."""
    return _send(
        organisers,
        group,
        lambda: _("Shifts still short in %(group)s", group=group.name),
        "email/rota_shortage.txt",
        shifts=shifts,
        link=absolute_url("rota.group_rota", group_slug=group.slug),
    )
