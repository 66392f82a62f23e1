"""A member's shifts as an iCalendar feed (RFC 5545), with reminders the phone shows itself."""

from datetime import timedelta

import icalendar
from flask_babel import gettext as _

from stallapp.database import utcnow
from stallapp.rota.display import shift_place
from stallapp.rota.models import Assignment
from stallapp.rota.services import shift_title

#: Calendar apps raise these before each shift (VALARM), independent of our emails.
ALARMS = (timedelta(days=-1), timedelta(hours=-2))
#: Domain part of the UIDs; fixed so a calendar app recognises the same shift on every refresh.
UID_DOMAIN = "rota.stallapp"


def shift_uid(assignment: Assignment) -> str:
    """Return the event's UID: stable for the shift, distinct per member."""
    return f"shift-{assignment.shift_id}-member-{assignment.user_id}@{UID_DOMAIN}"


def build_feed(user_name: str, assignments: list[Assignment], link: str) -> bytes:
    """Return the iCalendar file of these places; times are UTC instants (``...Z``)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//stallapp//rota//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("Shifts of %(name)s", name=user_name))
    # Ask calendar apps to refresh a few times a day, not once a week.
    calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT6H")
    now = utcnow()
    for assignment in assignments:
        shift = assignment.shift
        event = icalendar.Event()
        event.add("uid", shift_uid(assignment))
        event.add("dtstamp", now)
        event.add("dtstart", shift.starts_at)
        event.add("dtend", shift.ends_at)
        event.add("summary", shift_title(shift))
        place = shift_place(shift)
        if place:
            event.add("location", place)
        others = [a.user.name for a in shift.active_assignments if a.user_id != assignment.user_id]
        lines = []
        if shift.notes:
            lines.append(shift.notes)
        if others:
            lines.append(_("With: %(names)s", names=", ".join(others)))
        lines.append(link)
        event.add("description", "\n\n".join(lines))
        event.add("url", link)
        if shift.cancelled_at is not None:
            event.add("status", "CANCELLED")
        else:
            event.add("status", "CONFIRMED")
            for trigger in ALARMS:
                alarm = icalendar.Alarm()
                alarm.add("action", "DISPLAY")
                alarm.add("trigger", trigger)
                alarm.add("description", shift_title(shift))
                event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
