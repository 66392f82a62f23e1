"""Forms of the sale screen's organiser settings."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from stallapp.forms import StallForm
from stallapp.money import is_valid_currency

PAYMENT_CHOICES = [
    SelectChoice("cash", _l("Cash")),
    SelectChoice("card", _l("Card")),
    SelectChoice("other", _l("Other")),
]


class TillSettingsForm(StallForm):
    main_currency = StringField(
        _l("Main currency"),
        validators=[DataRequired(), Length(min=3, max=3)],
        description=_l("Prices on the sale screen are shown in it. ISO code such as GBP or EUR."),
    )
    payment_method = SelectField(_l("Default payment method"), choices=PAYMENT_CHOICES)

    def validate_main_currency(self, field):
        field.data = (field.data or "").strip().upper()
        if not is_valid_currency(field.data):
            raise ValidationError(_l("Unknown currency code."))
