"""Account forms: login, reset, invitations, settings, groups and members."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp, ValidationError

from stallapp.accounts.models import Role
from stallapp.accounts.passwords import MAX_LENGTH, password_problem
from stallapp.forms import CurrencyCode, StallForm
from stallapp.times import is_valid_timezone

LANGUAGE_CHOICES = [
    SelectChoice("en", "English"),
    SelectChoice("fr", "Français"),
    SelectChoice("it", "Italiano"),
]
ROLE_CHOICES = [
    SelectChoice(Role.MEMBER.value, _l("Member")),
    SelectChoice(Role.ORGANISER.value, _l("Organiser")),
]


class LoginForm(StallForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    remember = BooleanField(_l("Keep me logged in on this phone (30 days)"))


class ForgotPasswordForm(StallForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])


class NewPasswordMixin:
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=_l("At least 8 characters. A few words you will remember work well."),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )

    def validate_password(self, field):
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class ResetPasswordForm(NewPasswordMixin, StallForm):
    pass


class AcceptInvitationForm(NewPasswordMixin, StallForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])


class ChangePasswordForm(NewPasswordMixin, StallForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )


class ProfileForm(StallForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("As my browser")), *LANGUAGE_CHOICES],
    )


class InviteForm(StallForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.MEMBER.value)


class RoleForm(StallForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class GroupForm(StallForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        _l("Short name for web addresses"),
        validators=[
            DataRequired(),
            Length(min=2, max=40),
            Regexp(r"^[a-z0-9-]+$", message=_l("Use lower-case letters, digits and dashes.")),
        ],
        description=_l("e.g. uk, nyc, montreal"),
    )
    timezone = StringField(
        _l("Time zone"),
        validators=[DataRequired()],
        description=_l("An IANA name such as Europe/London or America/Toronto."),
    )
    currency = StringField(
        _l("Currency"),
        validators=[DataRequired(), Length(min=3, max=3), CurrencyCode()],
        description=_l("ISO 4217 code such as GBP, USD, CAD, EUR."),
    )
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)

    def validate_timezone(self, field):
        field.data = (field.data or "").strip()
        if not is_valid_timezone(field.data):
            raise ValidationError(_l("Unknown time zone. Try e.g. Europe/London."))
