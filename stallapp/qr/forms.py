"""QR code forms."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from stallapp.forms import StallForm
from stallapp.qr.models import QrPurpose

PURPOSE_CHOICES = [
    SelectChoice(QrPurpose.JOIN.value, _l("Join the mailing list")),
    SelectChoice(QrPurpose.EVENT.value, _l("An event's page")),
    SelectChoice(QrPurpose.CONTACT.value, _l("Send us a message")),
    SelectChoice(QrPurpose.GROUP_PAGE.value, _l("Our events page")),
    SelectChoice(QrPurpose.CATALOGUE.value, _l("What we publish")),
]


class QrCodeForm(StallForm):
    label = StringField(
        _l("Label"),
        validators=[DataRequired(), Length(max=120)],
        description=_l("Where it will be printed, e.g. “table card Peterborough”."),
    )
    purpose = SelectField(_l("Leads to"), choices=PURPOSE_CHOICES, default=QrPurpose.JOIN.value)
    event_id = SelectField(_l("Event (for an event's page)"), coerce=int, validate_choice=False)
