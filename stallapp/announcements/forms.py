"""The announcement form: subject, text, an optional event, where replies go."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from stallapp.forms import StallForm


class AnnouncementForm(StallForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=150)])
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=10_000)],
        description=_l("Plain text. Links (https://...) stay clickable in the email."),
    )
    event_id = SelectField(
        _l("Event"),
        coerce=int,
        description=_l("Adds the event's time, place and public page link under the message."),
    )
    reply_to = EmailField(
        _l("Replies go to"),
        validators=[Optional(), Email(), Length(max=254)],
        description=_l("Optional: an address that reads the replies (shown to subscribers)."),
    )

    def set_events(self, events) -> None:
        """Offer the group's announceable events, or none."""
        self.event_id.choices = [
            SelectChoice(0, _l("No event")),
            *(SelectChoice(event.id, event.title) for event in events),
        ]

    @property
    def chosen_event_id(self) -> int | None:
        return self.event_id.data or None
