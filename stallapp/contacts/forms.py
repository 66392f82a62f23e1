"""Forms of the public contact pages and of the organisers' contact settings."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from stallapp.contacts.privacy import MAX_RETENTION_MONTHS
from stallapp.forms import StallForm


def consent_wording(group_name: str) -> str:
    """The words a visitor agrees to when asking for mailings; stored with the answer."""
    return str(
        _l(
            "I agree that %(group)s may email me about its meetings, stalls and publications. "
            "I can unsubscribe at any time with the link in every email.",
            group=group_name,
        )
    )


class HoneypotMixin:
    """A field people never see or fill; bots filling every field give themselves away."""

    website = StringField(
        _l("Leave this empty"),
        render_kw={"tabindex": "-1", "autocomplete": "off"},
    )

    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())


class ConsentMixin:
    def set_consent_wording(self, group_name: str) -> str:
        """Show the group's consent wording by the checkbox; return it for storing."""
        wording = consent_wording(group_name)
        self.consent.label.text = wording
        return wording


class JoinForm(HoneypotMixin, ConsentMixin, StallForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    city = StringField(_l("City or town (optional)"), validators=[Optional(), Length(max=120)])
    interests = TextAreaField(
        _l("What interests you? (optional)"),
        validators=[Optional(), Length(max=500)],
        description=_l("e.g. public meetings, the journal, helping at stalls"),
    )
    consent = BooleanField(
        validators=[DataRequired(message=_l("Tick this box to join the mailing list."))]
    )


class ContactForm(HoneypotMixin, ConsentMixin, StallForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Email(), Length(max=254)],
        description=_l("So that we can answer you."),
    )
    message = TextAreaField(_l("Your message"), validators=[DataRequired(), Length(max=5000)])
    consent = BooleanField()


class ForgetForm(HoneypotMixin, StallForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])


class RetentionForm(StallForm):
    contact_months = IntegerField(
        _l("Delete a contact after this many months without activity"),
        validators=[InputRequired(), NumberRange(min=1, max=MAX_RETENTION_MONTHS)],
        description=_l(
            "Activity is a sign-up, a registration or a message. Mailing-list subscribers who "
            "do nothing else are deleted too."
        ),
    )
    registration_months = IntegerField(
        _l("Anonymise registrations this many months after the event"),
        validators=[InputRequired(), NumberRange(min=1, max=MAX_RETENTION_MONTHS)],
        description=_l("Names and emails are removed; the numbers for the event stay."),
    )
