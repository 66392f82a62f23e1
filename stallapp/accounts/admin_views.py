"""Site administration: groups, their organisers, and disabling accounts."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from stallapp.accounts import services
from stallapp.accounts.forms import GroupForm, InviteForm
from stallapp.accounts.group_views import invite_from_form
from stallapp.accounts.models import Group, Role, User
from stallapp.errors import StallError
from stallapp.extensions import db
from stallapp.forms import EmptyForm
from stallapp.permissions import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _group_or_404(slug: str) -> Group:
    group = db.session.scalar(sa.select(Group).where(Group.slug == slug))
    if group is None:
        abort(404)
    return group


@bp.route("/groups", methods=["GET", "POST"])
@admin_required
def groups():
    """List the groups and create a new one."""
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = services.create_group(
                db.session,
                services.GroupSettings(
                    name=form.name.data,
                    slug=form.slug.data,
                    timezone=form.timezone.data,
                    currency=form.currency.data,
                    language=form.language.data,
                ),
            )
        except StallError as error:
            db.session.rollback()
            form.slug.errors.append(error.message)
        else:
            db.session.commit()
            flash(
                _("Group %(name)s created. Now invite its organiser.", name=group.name), "success"
            )
            return redirect(url_for("admin.group", slug=group.slug))
    all_groups = db.session.scalars(sa.select(Group).order_by(Group.name)).all()
    return render_template("admin/groups.html", form=form, groups=all_groups)


@bp.route("/groups/<slug>", methods=["GET", "POST"])
@admin_required
def group(slug: str):
    """Show a group's members and appoint organisers by invitation."""
    group = _group_or_404(slug)
    form = InviteForm(role=Role.ORGANISER.value)
    if form.validate_on_submit():
        invite_from_form(group, form)
        return redirect(url_for("admin.group", slug=group.slug))
    return render_template(
        "admin/group.html",
        group=group,
        form=form,
        memberships=services.members_of(db.session, group),
        invitations=services.pending_invitations(db.session, group),
    )


@bp.route("/users")
@admin_required
def users():
    """List every account, with a button to disable or enable it."""
    all_users = db.session.scalars(sa.select(User).order_by(User.name)).all()
    return render_template("admin/users.html", users=all_users, toggle_form=EmptyForm())


@bp.route("/users/<int:user_id>/enabled", methods=["POST"])
@admin_required
def toggle_user(user_id: int):
    """Disable an account (ending its sessions) or enable it again."""
    user = db.session.get(User, user_id) or abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            services.set_user_enabled(db.session, user, not user.is_enabled, by=current_user)
        except StallError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            if user.is_enabled:
                flash(_("%(name)s can log in again.", name=user.name), "success")
            else:
                flash(_("%(name)s is disabled and logged out.", name=user.name), "success")
    return redirect(url_for("admin.users"))
