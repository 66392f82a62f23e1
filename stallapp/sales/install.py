"""The sale screen as an app a phone installs: its manifest, its icons, and where it starts."""

from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from stallapp.accounts.services import groups_of
from stallapp.extensions import db
from stallapp.permissions import login_required
from stallapp.sales.views import render_sale_list

bp = Blueprint("install", __name__)

#: The top bar's colour (``--ink`` in app.css): the phone's status bar matches it.
THEME_COLOUR = "#1d1d1f"
#: The page background (``--paper``), shown while the installed app starts.
BACKGROUND_COLOUR = "#fbfaf7"
#: Browsers ask for these at the site root whatever the page links to.
ROOT_ICONS = {"favicon.ico": "image/vnd.microsoft.icon", "apple-touch-icon.png": "image/png"}


@bp.route("/manifest.webmanifest")
def manifest():
    """Describe the installable app: names, icons, colours and its start at the sale list."""
    icon = "img/icon-{}.png"
    body = {
        "id": "/sell",
        "name": "stallapp",
        "short_name": "stallapp",
        "description": _("Sell at a stall, with or without a connection."),
        "start_url": url_for("install.start"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {
                "src": url_for("static", filename=icon.format(192)),
                "sizes": "192x192",
                "type": "image/png",
                "purpose": "any",
            },
            {
                "src": url_for("static", filename=icon.format(512)),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any",
            },
            {
                "src": url_for("static", filename=icon.format("maskable-512")),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/favicon.ico", endpoint="favicon", defaults={"name": "favicon.ico"})
@bp.route(
    "/apple-touch-icon.png", endpoint="apple_touch_icon", defaults={"name": "apple-touch-icon.png"}
)
def root_icon(name: str):
    """Serve the icon browsers fetch from the site root."""
    folder = Path(current_app.static_folder) / "img"
    response = current_app.response_class((folder / name).read_bytes(), mimetype=ROOT_ICONS[name])
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/sell")
@login_required
def start():
    """Open the member's sale list: their group's, or a choice when they are in several."""
    memberships = groups_of(db.session, current_user)
    if len(memberships) == 1:
        # Shown here rather than redirected to, so the installed app opens it offline too.
        [(group, _role)] = memberships
        return render_sale_list(group)
    return render_template("sales/start.html", memberships=memberships)
