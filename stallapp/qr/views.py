"""QR codes: organisers create, download and print them; the public scans them."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from stallapp.accounts.models import Group
from stallapp.database import writes
from stallapp.errors import StallError
from stallapp.events.display import event_day
from stallapp.events.models import Event
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.permissions import get_in_group_or_404, organiser_required
from stallapp.qr import services, visits
from stallapp.qr.forms import PURPOSE_CHOICES, QrCodeForm
from stallapp.qr.models import QrCode, QrPurpose

bp = Blueprint("qr", __name__)


PRINT_FORMATS = {"a6": "A6", "a4": "A4"}
PURPOSE_LABELS = {choice.value: choice.label for choice in PURPOSE_CHOICES}


def _event_choices(group: Group) -> list[SelectChoice]:
    """The group's events, latest first, for codes that lead to an event's page."""
    events = db.session.scalars(
        sa.select(Event).where(Event.group_id == group.id).order_by(Event.starts_at.desc())
    )
    choices = [SelectChoice(0, _("No event"))]
    for event in events:
        choices.append(SelectChoice(event.id, f"{event.title} · {event_day(event)}"))
    return choices


def target_path(qr_code: QrCode) -> str:
    """Return the public page a code leads to (a path on this site)."""
    slug = qr_code.group.slug
    if qr_code.purpose == QrPurpose.JOIN:
        return url_for("public_contacts.join", group_slug=slug)
    if qr_code.purpose == QrPurpose.CONTACT:
        return url_for("public_contacts.contact", group_slug=slug)
    if qr_code.purpose == QrPurpose.CATALOGUE:
        return url_for("public_catalogue.publications", group_slug=slug)
    if qr_code.purpose == QrPurpose.EVENT and qr_code.event is not None:
        return url_for("public_events.event_page", event_code=qr_code.event.public_code)
    return url_for("public_events.group_page", group_slug=slug)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/groups/<group_slug>/qr", methods=["GET", "POST"])
@organiser_required
def index(group: Group):
    """List the group's QR codes with their scan counts, and create a new one."""
    form = QrCodeForm()
    form.event_id.choices = _event_choices(group)
    if form.validate_on_submit():
        event = None
        if form.event_id.data:
            event = get_in_group_or_404(Event, form.event_id.data, group)
        try:
            qr_code = services.create_qr_code(
                db.session, group, QrPurpose(form.purpose.data), form.label.data, event
            )
        except StallError as error:
            db.session.rollback()
            form.event_id.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("QR code “%(label)s” created.", label=qr_code.label), "success")
            return redirect(url_for("qr.detail", group_slug=group.slug, qr_code_id=qr_code.id))
    return render_template(
        "qr/index.html",
        group=group,
        form=form,
        codes=services.codes_of(db.session, group),
        purpose_labels=PURPOSE_LABELS,
    )


@bp.route("/groups/<group_slug>/events/<int:event_id>/qr", methods=["POST"])
@organiser_required
def create_for_event(group: Group, event_id: int):
    """Make a QR code for an event's public page in one step, then show it to print."""
    event = get_in_group_or_404(Event, event_id, group)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("events.show_event", group_slug=group.slug, event_id=event.id))
    label = _("Table card · %(event)s", event=event.title)[: services.LABEL_LENGTH]
    qr_code = services.create_qr_code(db.session, group, QrPurpose.EVENT, label, event)
    db.session.commit()
    flash(_("QR code “%(label)s” created.", label=qr_code.label), "success")
    return redirect(url_for("qr.detail", group_slug=group.slug, qr_code_id=qr_code.id))


@bp.route("/groups/<group_slug>/qr/<int:qr_code_id>")
@organiser_required
def detail(group: Group, qr_code_id: int):
    """Show one code: where it leads, its scans, downloads and print layouts."""
    qr_code = get_in_group_or_404(QrCode, qr_code_id, group)
    return render_template(
        "qr/detail.html",
        group=group,
        qr_code=qr_code,
        payload=services.payload_url(qr_code),
        target=target_path(qr_code),
        purpose_labels=PURPOSE_LABELS,
    )


@bp.route("/groups/<group_slug>/qr/<int:qr_code_id>/code.svg")
@organiser_required
def svg(group: Group, qr_code_id: int):
    """Download the code as SVG."""
    qr_code = get_in_group_or_404(QrCode, qr_code_id, group)
    body = services.render_svg(services.payload_url(qr_code))
    return _download(body, "image/svg+xml", f"qr-{qr_code.code}.svg")


@bp.route("/groups/<group_slug>/qr/<int:qr_code_id>/code.png")
@organiser_required
def png(group: Group, qr_code_id: int):
    """Download the code as PNG."""
    qr_code = get_in_group_or_404(QrCode, qr_code_id, group)
    body = services.render_png(services.payload_url(qr_code))
    return _download(body, "image/png", f"qr-{qr_code.code}.png")


@bp.route("/groups/<group_slug>/qr/<int:qr_code_id>/print/<paper>")
@organiser_required
def print_page(group: Group, qr_code_id: int, paper: str):
    """Show an A6 table card or A4 poster with the big code, ready to print."""
    if paper not in PRINT_FORMATS:
        abort(404)
    qr_code = get_in_group_or_404(QrCode, qr_code_id, group)
    event = qr_code.event
    return render_template(
        "qr/print.html",
        group=group,
        qr_code=qr_code,
        paper=paper,
        event=event,
        payload=services.payload_url(qr_code),
        svg_markup=services.inline_svg(
            services.payload_url(qr_code),
            _("QR code for %(url)s", url=services.payload_url(qr_code)),
        ),
    )


@bp.route("/q/<code>")
@writes
def scan(code: str):
    """Count a scan and send the visitor on to the code's page."""
    qr_code = services.count_scan(db.session, code)
    if qr_code is None:
        abort(404)
    db.session.commit()
    visits.remember_scan(qr_code)
    response = redirect(target_path(qr_code))
    # Every scan must reach us to be counted: no cache may answer in our place.
    response.headers["Cache-Control"] = "no-store"
    return response
