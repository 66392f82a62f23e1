"""Forms for a group's public-page settings and the installation's network page."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from stallapp.forms import StallForm


class PublicPageSettingsForm(StallForm):
    listed_on_network = BooleanField(
        _l("Show our published events and titles on the network's pages"),
        description=_l("The shared pages of every group on this site: /events and /publications."),
    )
    embed_origins = TextAreaField(
        _l("Web sites that may show our lists in a frame"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "One address a line, e.g. https://www.example.org (no path). Other sites cannot "
            "frame them."
        ),
    )


class SiteSettingsForm(StallForm):
    name = StringField(
        _l("Name of this site"),
        validators=[Optional(), Length(max=120)],
        description=_l("The title of the network's pages and feeds."),
    )
    intro = TextAreaField(
        _l("Text at the top of the network's pages"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Plain text. Line breaks are kept and web addresses become links."),
    )
