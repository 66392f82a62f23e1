"""Forms of the sale screen's organiser settings."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from stallapp.forms import CurrencyCode, StallForm

PAYMENT_CHOICES = [
    SelectChoice("cash", _l("Cash")),
    SelectChoice("card", _l("Card")),
    SelectChoice("other", _l("Other")),
]


class TillSettingsForm(StallForm):
    main_currency = StringField(
        _l("Main currency"),
        validators=[DataRequired(), Length(min=3, max=3), CurrencyCode()],
        description=_l("Prices on the sale screen are shown in it. ISO code such as GBP or EUR."),
    )
    payment_method = SelectField(_l("Default payment method"), choices=PAYMENT_CHOICES)
