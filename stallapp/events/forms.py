"""Event forms: an event, a series, and the public registration form."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from stallapp.events.display import KIND_LABELS
from stallapp.events.models import EventKind
from stallapp.events.series import Frequency
from stallapp.events.services import EventDetails, SeriesTemplate
from stallapp.forms import DayInRange, StallForm

KIND_CHOICES = [SelectChoice(kind.value, KIND_LABELS[kind]) for kind in EventKind]
WEEKDAY_CHOICES = [
    SelectChoice(0, _l("Monday")),
    SelectChoice(1, _l("Tuesday")),
    SelectChoice(2, _l("Wednesday")),
    SelectChoice(3, _l("Thursday")),
    SelectChoice(4, _l("Friday")),
    SelectChoice(5, _l("Saturday")),
    SelectChoice(6, _l("Sunday")),
]
POSITION_CHOICES = [
    SelectChoice(1, _l("First")),
    SelectChoice(2, _l("Second")),
    SelectChoice(3, _l("Third")),
    SelectChoice(4, _l("Fourth")),
    SelectChoice(-1, _l("Last")),
]
FREQUENCY_CHOICES = [
    SelectChoice(Frequency.WEEKLY.value, _l("Every week on the days ticked below")),
    SelectChoice(Frequency.MONTHLY.value, _l("Every month on one weekday (e.g. last Saturday)")),
    SelectChoice(Frequency.DATES.value, _l("On a list of dates")),
]
SCOPE_CHOICES = [
    SelectChoice("one", _l("This event only")),
    SelectChoice("future", _l("This and all future events in the series")),
]


def _web_link(form, field) -> None:
    if field.data and not field.data.lower().startswith(("https://", "http://")):
        raise ValidationError(_l("Give a web address starting with https://"))


class MultiCheckboxField(SelectMultipleField):
    """Tick boxes for a multiple choice (weekdays), easier on a phone than a multi-select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _EventFieldsMixin:
    """Fields an event and a series share."""

    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default=EventKind.STALL.value)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    timezone = StringField(
        _l("Time zone"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The times above are in this zone, e.g. Europe/London."),
    )
    venue_name = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])
    online_url = URLField(
        _l("Online link"),
        validators=[Optional(), Length(max=500), URL(require_tld=False), _web_link],
        description=_l("For an online meeting: the address people join at."),
    )
    online_link_public = BooleanField(
        _l("Publish the online link on the public page"),
        description=_l(
            "Off: only people who register get the link (by email and on their own page), "
            "so nobody joins uninvited."
        ),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Plain text. Line breaks are kept and web addresses become links."),
    )
    registration_required = BooleanField(_l("People register to come"))
    capacity = IntegerField(
        _l("Places"),
        validators=[Optional(), NumberRange(min=1, max=100_000)],
        description=_l("Leave empty for no limit. When it is full, people join a waiting list."),
    )

    def template_values(self) -> dict:
        return {
            "kind": EventKind(self.kind.data),
            "title": self.title.data.strip(),
            "timezone": self.timezone.data.strip(),
            "description": self.description.data or "",
            "venue_name": self.venue_name.data or "",
            "address": self.address.data or "",
            "postcode": self.postcode.data or "",
            "online_url": self.online_url.data or "",
            "online_link_public": self.online_link_public.data,
            "registration_required": self.registration_required.data,
            "capacity": self.capacity.data,
        }


class EventForm(_EventFieldsMixin, StallForm):
    start_date = DateField(_l("Date"), validators=[DataRequired(), DayInRange()])
    start_time = TimeField(_l("Starts at"), validators=[DataRequired()])
    end_time = TimeField(_l("Ends at"), validators=[DataRequired()])
    end_date = DateField(
        _l("End date"),
        validators=[Optional(), DayInRange()],
        description=_l("Only when it ends on a later day."),
    )
    publish = BooleanField(_l("Publish now (show it on the public page)"))
    scope = RadioField(_l("Change"), choices=SCOPE_CHOICES, default="one")

    def details(self) -> EventDetails:
        start = datetime.combine(self.start_date.data, self.start_time.data)
        end_day: date = self.end_date.data or self.start_date.data
        return EventDetails(
            start=start, end=datetime.combine(end_day, self.end_time.data), **self.template_values()
        )


class SeriesForm(_EventFieldsMixin, StallForm):
    start_time = TimeField(_l("Starts at"), validators=[DataRequired()])
    end_time = TimeField(_l("Ends at"), validators=[DataRequired()])
    frequency = RadioField(
        _l("Repeats"), choices=FREQUENCY_CHOICES, default=Frequency.MONTHLY.value
    )
    weekdays = MultiCheckboxField(_l("Weekdays (every week)"), choices=WEEKDAY_CHOICES, coerce=int)
    nth = SelectField(
        _l("Which one (every month)"), choices=POSITION_CHOICES, coerce=int, default=-1
    )
    monthly_weekday = SelectField(
        _l("Weekday (every month)"), choices=WEEKDAY_CHOICES, coerce=int, default=5
    )
    first_day = DateField(_l("From"), validators=[Optional(), DayInRange()])
    last_day = DateField(
        _l("Until"), validators=[Optional(), DayInRange()], description=_l("Both included.")
    )
    dates = TextAreaField(
        _l("Dates (list)"),
        validators=[Length(max=5000)],
        description=_l("One date a line, as 2024-08-13."),
    )
    publish = BooleanField(_l("Publish them now (show them on the public page)"))

    def date_list(self) -> tuple[date, ...]:
        """Return the dates typed in the list, one a line (or separated by commas)."""
        parsed = []
        for line in (self.dates.data or "").replace(",", "\n").splitlines():
            if line.strip():
                parsed.append(date.fromisoformat(line.strip()))
        return tuple(parsed)

    def validate_dates(self, field) -> None:
        if self.frequency.data != Frequency.DATES.value:
            return
        for line in (field.data or "").replace(",", "\n").splitlines():
            try:
                if line.strip():
                    date.fromisoformat(line.strip())
            except ValueError as error:
                raise ValidationError(
                    _l("%(text)s is not a date like 2024-08-13.", text=line.strip())
                ) from error
        if not (field.data or "").strip():
            raise ValidationError(_l("Give at least one date."))

    def template(self) -> SeriesTemplate:
        return SeriesTemplate(
            start_time=self.start_time.data, end_time=self.end_time.data, **self.template_values()
        )


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RegistrationForm(StallForm):
    name = StringField(
        _l("Your name"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    # Phones' keyboards and autofill often add a space after an address.
    email = EmailField(
        _l("Email"), filters=[_strip], validators=[DataRequired(), Email(), Length(max=254)]
    )
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=1000)],
        description=_l("E.g. access needs, or a question for the organisers."),
    )
    consent = BooleanField(
        validators=[DataRequired(message=_l("Please tick the box to register."))]
    )
    #: A honeypot: hidden from people by CSS, filled in by bots that fill in everything.
    website = StringField(_l("Leave this empty"))
