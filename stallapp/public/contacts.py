"""The public contact pages: join the mailing list, write to the group, unsubscribe, forget me.

None of them says whether an address is already known to the group: the answer to a form is
the same page whatever the database held, and emails go only to the address itself.
"""

import logging

from flask import Blueprint, current_app, g, redirect, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _

from stallapp.announcements.services import SOURCE_PARAMETER, count_unsubscribe
from stallapp.contacts import privacy, services
from stallapp.contacts.forms import ContactForm, ForgetForm, JoinForm
from stallapp.errors import InvalidToken
from stallapp.extensions import csrf, db, limiter
from stallapp.forms import EmptyForm
from stallapp.mail import MailPurpose, send_email
from stallapp.permissions import public_group_or_404
from stallapp.qr.visits import scanned_qr_code_id
from stallapp.security import NO_TOKEN, same_origin_posts
from stallapp.text import normalise_email
from stallapp.urls import absolute_url

bp = Blueprint("public_contacts", __name__)
log = logging.getLogger(__name__)


def _public_form_limit() -> str:
    return current_app.config["PUBLIC_FORM_LIMIT"]


def send_confirmation_email(group, contact, token: str) -> None:
    """Email the double opt-in link, with the unsubscribe link, in the group's language."""
    with force_locale(group.language):
        send_email(
            contact.email,
            _("Confirm that you want emails from %(group)s", group=group.name),
            render_template(
                "email/mailing_confirmation.txt",
                group=group,
                contact=contact,
                link=absolute_url("public_contacts.confirm", token=token),
                unsubscribe_link=absolute_url(
                    "public_contacts.unsubscribe", token=contact.unsubscribe_token
                ),
            ),
            purpose=MailPurpose.MAILING_CONFIRMATION,
            group=group,
        )


def _invalid_link(group=None):
    if group is not None:
        g.public_group = group
    return render_template(
        "public/contact_link_invalid.html", message=InvalidToken().message, group=group
    ), 404


@bp.route("/g/<group_slug>/join", methods=["GET", "POST"])
@limiter.limit(_public_form_limit, methods=["POST"])
@same_origin_posts
def join(group_slug: str):
    """Join a group's mailing list (confirmed by an emailed link)."""
    group = public_group_or_404(group_slug)
    form = JoinForm(meta=NO_TOKEN)
    wording = form.set_consent_wording(group.name)
    if request.method == "POST" and form.is_bot():
        log.info("join form: honeypot filled, nothing stored")
        return render_template("public/join_thanks.html", group=group)
    if form.validate_on_submit():
        result = services.sign_up(
            db.session,
            group,
            email=form.email.data,
            name=form.name.data,
            city=form.city.data or "",
            interests=form.interests.data or "",
            consent_text=wording,
            source_qr_code_id=scanned_qr_code_id(),
        )
        if result.confirmation_token:
            send_confirmation_email(group, result.contact, result.confirmation_token)
        db.session.commit()
        return render_template("public/join_thanks.html", group=group)
    return render_template("public/join.html", group=group, form=form)


@bp.route("/join/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(_public_form_limit, methods=["POST"])
@same_origin_posts
def confirm(token: str):
    """Confirm a mailing-list sign-up with the emailed link."""
    try:
        contact = services.contact_to_confirm(db.session, token)
    except InvalidToken:
        return _invalid_link()
    group = contact.group
    g.public_group = group
    form = EmptyForm(meta=NO_TOKEN)
    if form.validate_on_submit():
        try:
            services.confirm_mailing(db.session, token)
        except InvalidToken:
            db.session.rollback()
            return _invalid_link(group)
        db.session.commit()
        return render_template("public/join_confirmed.html", group=group)
    return render_template("public/join_confirm.html", group=group, form=form)


@bp.route("/g/<group_slug>/contact", methods=["GET", "POST"])
@limiter.limit(_public_form_limit, methods=["POST"])
@same_origin_posts
def contact(group_slug: str):
    """Send a message to a group's organisers."""
    group = public_group_or_404(group_slug)
    form = ContactForm(meta=NO_TOKEN)
    wording = form.set_consent_wording(group.name)
    if request.method == "POST" and form.is_bot():
        log.info("contact form: honeypot filled, nothing stored")
        return render_template(
            "public/contact_thanks.html", group=group, asked_for_mailings=bool(form.consent.data)
        )
    if form.validate_on_submit():
        received = services.receive_message(
            db.session,
            group,
            email=form.email.data,
            name=form.name.data,
            body=form.message.data,
            consent_text=wording if form.consent.data else None,
            source_qr_code_id=scanned_qr_code_id(),
        )
        signed_up = received.sign_up
        if signed_up is not None and signed_up.confirmation_token:
            send_confirmation_email(group, signed_up.contact, signed_up.confirmation_token)
        db.session.commit()
        return render_template(
            "public/contact_thanks.html", group=group, asked_for_mailings=bool(form.consent.data)
        )
    return render_template("public/contact.html", group=group, form=form)


@bp.route("/u/<token>", methods=["GET", "POST"])
@limiter.limit(_public_form_limit, methods=["POST"])
@same_origin_posts
def unsubscribe(token: str):
    """Stop a group's mailings to you (the link in every email)."""
    try:
        contact = services.contact_for_unsubscribe(db.session, token)
    except InvalidToken:
        return _invalid_link()
    group = contact.group
    g.public_group = group
    form = EmptyForm(meta=NO_TOKEN)
    if form.validate_on_submit():
        _unsubscribe(contact, token)
        return render_template("public/unsubscribe_done.html", group=group)
    return render_template("public/unsubscribe.html", group=group, form=form)


def _unsubscribe(contact, token: str) -> None:
    """Unsubscribe and commit; count it for the announcement whose link was used (``?from=``)."""
    was_subscribed = contact.subscribed
    services.unsubscribe(db.session, token)
    if was_subscribed:
        count_unsubscribe(db.session, contact, request.args.get(SOURCE_PARAMETER))
    db.session.commit()


@bp.route("/u/<token>/one-click", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(_public_form_limit, methods=["POST"])
def unsubscribe_one_click(token: str):
    """Unsubscribe at once from a mail program's button (RFC 8058: the token is the proof).

    The address in every announcement's ``List-Unsubscribe`` header. A GET (a person who
    opened the link) shows the unsubscribe page, which asks first.
    """
    if request.method == "GET":
        source = request.args.get(SOURCE_PARAMETER)
        marked = {SOURCE_PARAMETER: source} if source else {}
        return redirect(absolute_url("public_contacts.unsubscribe", token=token, **marked))
    try:
        contact = services.contact_for_unsubscribe(db.session, token)
    except InvalidToken:
        return _invalid_link()
    g.public_group = contact.group
    _unsubscribe(contact, token)
    log.info("one-click unsubscribe in group %s", contact.group_id)
    return render_template("public/unsubscribe_done.html", group=contact.group)


@bp.route("/g/<group_slug>/forget", methods=["GET", "POST"])
@limiter.limit(_public_form_limit, methods=["POST"])
@same_origin_posts
def forget(group_slug: str):
    """Ask by email for everything a group holds about you to be erased."""
    group = public_group_or_404(group_slug)
    form = ForgetForm(meta=NO_TOKEN)
    if request.method == "POST" and form.is_bot():
        log.info("forget form: honeypot filled, nothing sent")
        return render_template("public/forget_sent.html", group=group)
    if form.validate_on_submit():
        token = privacy.request_erasure(db.session, group, form.email.data)
        if token:
            with force_locale(group.language):
                send_email(
                    normalise_email(form.email.data),
                    _("Erase your details held by %(group)s", group=group.name),
                    render_template(
                        "email/erasure_request.txt",
                        group=group,
                        link=absolute_url("public_contacts.erase", token=token),
                    ),
                    purpose=MailPurpose.ERASURE_REQUEST,
                    group=group,
                )
        db.session.commit()
        return render_template("public/forget_sent.html", group=group)
    return render_template("public/forget.html", group=group, form=form)


@bp.route("/forget/<token>", methods=["GET", "POST"])
@limiter.limit(_public_form_limit, methods=["POST"])
@same_origin_posts
def erase(token: str):
    """Erase everything a group holds about you, with the link from the "forget me" email."""
    try:
        erasure = privacy.live_erasure_request(db.session, token)
    except InvalidToken:
        return _invalid_link()
    group = erasure.group
    g.public_group = group
    email = erasure.email
    form = EmptyForm(meta=NO_TOKEN)
    if form.validate_on_submit():
        try:
            privacy.erase_by_request(db.session, token)
        except InvalidToken:
            db.session.rollback()
            return _invalid_link(group)
        db.session.commit()
        log.info("erased on request: a contact's data in group %s", group.id)
        return render_template("public/forget_done.html", group=group)
    return render_template("public/forget_confirm.html", group=group, form=form, email=email)
