"""Rota forms: shifts, the stall-day template, assigning, withdrawing, cover, unavailable days."""

from datetime import datetime, timedelta
from typing import Self

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from stallapp.accounts.models import User
from stallapp.events.models import Event
from stallapp.forms import DayInRange, StallForm
from stallapp.rota.models import ShiftRole
from stallapp.rota.shifts import ROLE_LABELS
from stallapp.times import NonexistentLocalTime, local_to_utc, utc_to_local

ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]
PEOPLE = [NumberRange(min=1, max=50, message=_l("Between 1 and 50."))]


def _local_date(event: Event):
    return utc_to_local(event.starts_at, event.timezone).date()


def _minutes(*values: int) -> list[SelectChoice]:
    labels = {
        0: _l("None"),
        15: _l("15 minutes"),
        30: _l("30 minutes"),
        45: _l("45 minutes"),
        60: _l("1 hour"),
        90: _l("1½ hours"),
        120: _l("2 hours"),
        150: _l("2½ hours"),
        180: _l("3 hours"),
        240: _l("4 hours"),
    }
    return [SelectChoice(value, labels[value]) for value in values]


class ShiftForm(StallForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=ShiftRole.STAFFING.value)
    custom_role = StringField(
        _l("Name of the role"),
        validators=[Length(max=80)],
        description=_l("Only for “Other”, e.g. “Bring the urn”."),
    )
    day = DateField(
        _l("Day"), validators=[InputRequired(message=_l("Choose the day.")), DayInRange()]
    )
    start = TimeField(_l("Starts"), validators=[InputRequired(message=_l("Give a start time."))])
    end = TimeField(
        _l("Ends"),
        validators=[InputRequired(message=_l("Give an end time."))],
        description=_l("An end before the start means the next day."),
    )
    people_needed = IntegerField(
        _l("People needed"), default=1, validators=[InputRequired(), *PEOPLE]
    )
    notes = TextAreaField(
        _l("Notes"), validators=[Length(max=2000)], description=_l("e.g. “bring the banner”")
    )

    def validate_custom_role(self, field):
        field.data = (field.data or "").strip()
        if self.role.data == ShiftRole.CUSTOM.value and not field.data:
            raise ValidationError(_l("Give the role a name."))

    def details(self) -> dict:
        """Return the shift's other keyword arguments for ``add_shift`` and ``update_shift``."""
        return {
            "people_needed": self.people_needed.data,
            "notes": self.notes.data,
            "custom_role": self.custom_role.data,
        }

    def instants(self, zone_name: str) -> tuple[datetime, datetime] | None:
        """Return the UTC start and end, or None after putting an error on the field at fault."""
        start_local = datetime.combine(self.day.data, self.start.data)
        end_local = datetime.combine(self.day.data, self.end.data)
        if end_local <= start_local:
            end_local += timedelta(days=1)
        instants = []
        for field, local in ((self.start, start_local), (self.end, end_local)):
            try:
                instants.append(local_to_utc(local, zone_name))
            except NonexistentLocalTime:
                field.errors = [
                    *field.errors,
                    _l("That time does not exist: the clocks go forward then."),
                ]
        return (instants[0], instants[1]) if len(instants) == 2 else None

    def fill_from(self, shift, zone_name: str) -> None:
        """Show a shift's current values in its event's zone."""
        start = utc_to_local(shift.starts_at, zone_name)
        self.role.data = shift.role.value
        self.custom_role.data = shift.custom_role
        self.day.data = start.date()
        self.start.data = start.time().replace(tzinfo=None)
        self.end.data = utc_to_local(shift.ends_at, zone_name).time().replace(tzinfo=None)
        self.people_needed.data = shift.people_needed
        self.notes.data = shift.notes


class StallDayForm(StallForm):
    setup = SelectField(
        _l("Set-up before opening"), choices=_minutes(0, 30, 45, 60, 90), coerce=int, default=60
    )
    setup_people = IntegerField(
        _l("People for set-up"), default=2, validators=[InputRequired(), *PEOPLE]
    )
    block = SelectField(
        _l("Staffing blocks of"),
        choices=_minutes(60, 90, 120, 150, 180, 240),
        coerce=int,
        default=120,
    )
    staffing_people = IntegerField(
        _l("People per staffing block"), default=2, validators=[InputRequired(), *PEOPLE]
    )
    packdown = SelectField(
        _l("Pack-down after closing"), choices=_minutes(0, 15, 30, 45, 60), coerce=int, default=30
    )
    packdown_people = IntegerField(
        _l("People for pack-down"), default=2, validators=[InputRequired(), *PEOPLE]
    )

    def template(self) -> dict:
        """Return the keyword arguments for :func:`stallapp.rota.shifts.fill_stall_day`."""
        return {
            "setup": timedelta(minutes=self.setup.data),
            "block": timedelta(minutes=self.block.data),
            "packdown": timedelta(minutes=self.packdown.data),
            "setup_people": self.setup_people.data,
            "staffing_people": self.staffing_people.data,
            "packdown_people": self.packdown_people.data,
        }


class AssignForm(StallForm):
    user_id = SelectField(
        _l("Member"), coerce=int, validators=[DataRequired(_l("Choose someone."))]
    )
    #: Set once the organiser has seen the warnings and still wants to go ahead.
    confirmed = HiddenField(default="")

    def offer(self, members: list[tuple[User, bool]]) -> None:
        """Offer these members, each marked if they said they are unavailable that day."""
        self.user_id.choices = [SelectChoice(0, _("Choose someone"))] + [
            SelectChoice(
                user.id,
                _("%(name)s (unavailable that day)", name=user.name) if unavailable else user.name,
            )
            for user, unavailable in members
        ]


class PerShiftForm(StallForm):
    """A form My shifts repeats on every shift's card: each copy needs ids of its own, so a label
    still points at its own field. Names stay as they are, so the posted data reads the same."""

    #: Put before each field's name in its id, e.g. ``cover-`` gives ``cover-message-12``.
    id_prefix = ""

    def numbered(self, assignment_id: int) -> Self:
        """Give every field (the CSRF token too) an id ending in the assignment's id."""
        for field in self:
            field.id = f"{self.id_prefix}{field.name}-{assignment_id}"
            field.label.field_id = field.id
        return self


class WithdrawForm(PerShiftForm):
    reason = TextAreaField(
        _l("Why can you not make it?"),
        validators=[DataRequired(_l("Please give a short reason.")), Length(max=500)],
        description=_l("The organisers see this."),
    )


class CoverForm(PerShiftForm):
    id_prefix = "cover-"
    message = TextAreaField(
        _l("Message to the group (optional)"),
        validators=[Length(max=500)],
        description=_l("You stay on the shift until someone takes it over."),
    )


class UnavailableForm(StallForm):
    day = DateField(
        _l("Day"), validators=[InputRequired(message=_l("Choose the day.")), DayInRange()]
    )
    note = StringField(_l("Note (optional)"), validators=[Length(max=200)])


class CopyRotaForm(StallForm):
    source_id = SelectField(
        _l("Copy the shifts of"), coerce=int, validators=[DataRequired(_l("Choose an event."))]
    )

    def offer(self, events: list[Event]) -> None:
        """Offer these events as sources, each with its local date."""
        self.source_id.choices = [SelectChoice(0, _l("Choose an event"))] + [
            SelectChoice(
                event.id,
                f"{event.title} · {utc_to_local(event.starts_at, event.timezone):%Y-%m-%d}",
            )
            for event in events
        ]


class MessageForm(StallForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=150)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=5000)])


class RangeForm(StallForm):
    """The rota's date range, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[InputRequired(), DayInRange()])
    end = DateField(_l("Until"), validators=[InputRequired(), DayInRange()])

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The end must not be before the start."))
        if self.start.data and field.data and (field.data - self.start.data).days > 366:
            raise ValidationError(_l("Choose a range of a year or less."))
