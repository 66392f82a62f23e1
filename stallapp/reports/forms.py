"""The close-out form (one count per title, one cash count per currency), the reopen form and
the date range of the group reports."""

from datetime import date

from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from stallapp.accounts.models import Group
from stallapp.database import utcnow
from stallapp.forms import DayInRange, StallForm
from stallapp.i18n import money_locales
from stallapp.money import AmountOutOfRange, format_money, parse_money
from stallapp.reports.closeout import MAX_CASH
from stallapp.reports.figures import TitleFigures
from stallapp.reports.group_report import Period, default_period
from stallapp.stock.models import Store
from stallapp.stock.services import MAX_QUANTITY
from stallapp.times import utc_to_local


class MoneyField(StringField):
    """An amount typed in major units ("12.50") in ``currency``; ``minor`` holds it parsed."""

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.minor: int | None = None

    def pre_validate(self, form) -> None:
        self.minor = None
        text = (self.data or "").strip()
        if not text:
            return
        try:
            minor = parse_money(text, self.currency, money_locales(g.get("group")))
        except AmountOutOfRange:
            minor = MAX_CASH + 1
        except ValueError as error:
            raise ValidationError(_("Enter an amount such as 40 or 12.50.")) from error
        if not 0 <= minor <= MAX_CASH:
            raise ValidationError(_("The amount must be between 0 and a million."))
        self.minor = minor


def _store_id(value) -> int | None:
    """Read the store's id; the list's empty first choice ("Choose a store") reads as None."""
    if value in ("", None):
        return None
    return int(value)


class CloseOutForm(StallForm):
    """Built per event by :func:`close_out_form`, which adds the count and cash fields."""

    store = SelectField(
        _l("Put what came back in"),
        coerce=_store_id,
        validators=[InputRequired(_l("Choose the store the copies go back to."))],
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=2000)])

    #: ``(figures, count field)`` per title, set by :func:`close_out_form`.
    count_fields: list
    #: ``(currency, float, counted, note)`` fields per currency.
    cash_fields: list
    #: Cash taken per currency by the till (minor units), for the "note needed" check.
    taken: dict[str, int]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for currency, float_field, counted_field, note_field in self.cash_fields:
            if float_field.minor is None or counted_field.minor is None:
                continue
            expected = float_field.minor + self.taken.get(currency, 0)
            if counted_field.minor != expected and not (note_field.data or "").strip():
                note_field.errors.append(
                    _(
                        "The cash differs from the %(expected)s expected: say what happened.",
                        expected=format_money(expected, currency),
                    )
                )
                valid = False
        return valid


def close_out_form(
    figures: list[TitleFigures],
    currencies: list[str],
    stores: list[Store],
    taken: dict[str, int],
) -> CloseOutForm:
    """Return the close-out form for an event's titles and currencies, bound to the request."""

    class EventCloseOutForm(CloseOutForm):
        pass

    for figure in figures:
        setattr(
            EventCloseOutForm,
            f"count_{figure.publication_id}",
            IntegerField(
                figure.title,
                validators=[
                    InputRequired(_l("Enter the copies counted, 0 if none came back.")),
                    NumberRange(0, MAX_QUANTITY, _l("Enter 0 or more copies.")),
                ],
                description=_(
                    "Packed %(packed)d, sold %(sold)d, given away %(given)d: "
                    "%(left)d expected back.",
                    packed=figure.packed,
                    sold=figure.sold,
                    given=figure.given_away,
                    left=figure.left,
                ),
            ),
        )
    for currency in currencies:
        setattr(
            EventCloseOutForm,
            f"float_{currency}",
            MoneyField(
                _l("Float taken (%(currency)s)", currency=currency),
                currency=currency,
                default="0",
                validators=[DataRequired(_l("Enter the float, 0 if there was none."))],
            ),
        )
        setattr(
            EventCloseOutForm,
            f"cash_{currency}",
            MoneyField(
                _l("Cash counted at the end (%(currency)s)", currency=currency),
                currency=currency,
                validators=[DataRequired(_l("Enter the cash counted, 0 if none."))],
                description=_(
                    "Cash taken by the till: %(taken)s, plus the float.",
                    taken=format_money(taken.get(currency, 0), currency),
                ),
            ),
        )
        setattr(
            EventCloseOutForm,
            f"note_{currency}",
            StringField(
                _l("Note on the %(currency)s cash", currency=currency),
                validators=[Length(max=500)],
            ),
        )
    form = EventCloseOutForm()
    # A required list starts with an empty choice, so nothing is picked without a look.
    form.store.choices = [("", _("Choose a store…"))] + [(store.id, store.name) for store in stores]
    form.count_fields = [(figure, form[f"count_{figure.publication_id}"]) for figure in figures]
    form.cash_fields = [
        (currency, form[f"float_{currency}"], form[f"cash_{currency}"], form[f"note_{currency}"])
        for currency in currencies
    ]
    form.taken = taken
    return form


class ReopenForm(StallForm):
    reason = StringField(
        _l("Why reopen it?"),
        validators=[DataRequired(_l("Say why the event is reopened.")), Length(max=500)],
        description=_l("The count is undone and sales can be recorded again; this is logged."),
    )


class RejectLateSaleForm(StallForm):
    note = StringField(
        _l("Why reject it?"),
        validators=[DataRequired(_l("Say why the late sale is rejected.")), Length(max=500)],
        description=_l("It stays out of the books; the member's phone is told why."),
    )


class PeriodForm(StallForm):
    """The date range of the group reports, read from the query string."""

    class Meta:
        csrf = False

    first = DateField(_l("From"), validators=[InputRequired(), DayInRange()])
    last = DateField(_l("To"), validators=[InputRequired(), DayInRange()])

    def validate_last(self, field) -> None:
        if self.first.data and field.data and field.data < self.first.data:
            raise ValidationError(_("The end must not be before the start."))
        if self.first.data and field.data and (field.data - self.first.data).days > 3660:
            raise ValidationError(_("Choose at most ten years."))


def period_from(form: PeriodForm, default: Period) -> Period:
    """Return the period the form asks for, or ``default`` when it is empty or wrong."""
    first: date | None = form.first.data
    last: date | None = form.last.data
    if not form.errors and first and last:
        return Period(first, last)
    return default


def requested_period(group: Group) -> tuple[PeriodForm, Period]:
    """Return the date-range form read from the query string, and the period it asks for: the
    twelve months up to today in the group's time zone when it asks for none or a wrong one."""
    today = utc_to_local(utcnow(), group.timezone).date()
    default = default_period(today)
    form = PeriodForm(request.args)
    if request.args:
        form.validate()
    else:
        form.first.data, form.last.data = default.first, default.last
    return form, period_from(form, default)
