"""A group's home page and, for its organisers, its members and invitations."""

import logging

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from stallapp.accounts import services
from stallapp.accounts.forms import InviteForm, RoleForm
from stallapp.accounts.models import Group, Membership, Role
from stallapp.accounts.whats_next import whats_next
from stallapp.errors import StallError
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.mail import MailPurpose, send_email
from stallapp.permissions import get_in_group_or_404, member_required, organiser_required
from stallapp.urls import absolute_url

bp = Blueprint("groups", __name__, url_prefix="/groups/<group_slug>")
log = logging.getLogger(__name__)


def invite_from_form(group: Group, form: InviteForm) -> None:
    """Create the invitation the form asks for with its email, commit and say so."""
    invitation, token = services.invite(
        db.session, group, form.email.data, Role(form.role.data), current_user
    )
    send_invitation_email(invitation, token)
    db.session.commit()
    flash(_("Invitation sent. The link works for 7 days."), "success")


def send_invitation_email(invitation, token: str) -> None:
    """Email the invitation link, in the group's language."""
    with force_locale(invitation.group.language):
        send_email(
            invitation.email,
            _("You are invited to %(group)s on stallapp", group=invitation.group.name),
            render_template(
                "email/invitation.txt",
                invitation=invitation,
                link=absolute_url("accounts.accept_invitation", token=token),
            ),
            purpose=MailPurpose.INVITATION,
            group=invitation.group,
        )


@bp.route("/")
@member_required
def home(group: Group):
    """Show the group's home: what comes next, what waits, and the way to every section."""
    organiser = g.membership.role.allows(Role.ORGANISER)
    return render_template(
        "accounts/group_home.html",
        group=group,
        organiser=organiser,
        next=whats_next(db.session, group, current_user, organiser=organiser),
    )


@bp.route("/members", methods=["GET", "POST"])
@organiser_required
def members(group: Group):
    """List the group's members and invite new ones."""
    form = InviteForm()
    if form.validate_on_submit():
        invite_from_form(group, form)
        return redirect(url_for("groups.members", group_slug=group.slug))
    return render_template(
        "accounts/members.html",
        group=group,
        form=form,
        memberships=services.members_of(db.session, group),
        invitations=services.pending_invitations(db.session, group),
        role_form=RoleForm(),
        remove_form=EmptyForm(),
    )


@bp.route("/members/<int:membership_id>/role", methods=["POST"])
@organiser_required
def change_role(group: Group, membership_id: int):
    """Change a member's role."""
    membership = get_in_group_or_404(Membership, membership_id, group)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            services.change_role(db.session, membership, Role(form.role.data))
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Role changed for %(name)s.", name=membership.user.name), "success")
    return redirect(url_for("groups.members", group_slug=group.slug))


@bp.route("/members/<int:membership_id>/remove", methods=["POST"])
@organiser_required
def remove_member(group: Group, membership_id: int):
    """Take a member out of the group."""
    membership = get_in_group_or_404(Membership, membership_id, group)
    form = EmptyForm()
    if form.validate_on_submit():
        name = membership.user.name
        try:
            services.remove_member(db.session, membership)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("%(name)s is no longer in the group.", name=name), "success")
    return redirect(url_for("groups.members", group_slug=group.slug))
