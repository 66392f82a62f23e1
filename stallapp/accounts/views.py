"""Logging in and out, password resets, invitations, the dashboard and account settings."""

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from stallapp.accounts import services
from stallapp.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
)
from stallapp.errors import InvalidToken, StallError
from stallapp.extensions import db, limiter
from stallapp.forms import EmptyForm
from stallapp.mail import MailPurpose, send_email
from stallapp.permissions import login_required
from stallapp.security import safe_next
from stallapp.text import normalise_email
from stallapp.urls import absolute_url

bp = Blueprint("accounts", __name__)
log = logging.getLogger(__name__)


def _log_in(user, remember: bool) -> None:
    """Start a fresh session for ``user``: nothing from before the login survives."""
    session.clear()
    services.start_login_session(db.session, user, remember=remember)
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        address = request.remote_addr or ""
        try:
            user = services.check_login(
                db.session, form.email.data, form.password.data, address=address
            )
        except services.TooManyAttempts:
            db.session.rollback()
            log.warning("login refused from %s: too many failures", address)
            abort(429)
        except StallError as error:
            db.session.commit()
            log.warning("login failed from %s", address)
            form.password.errors.append(error.message)
            page = render_template("accounts/login.html", form=form)
            # Counted only once the failed-login answer exists: a crash on the way (a 5xx) is
            # the server's failure, not a wrong guess.
            services.record_failed_login(form.email.data, address=address)
            return page
        else:
            _log_in(user, remember=form.remember.data)
            db.session.commit()
            log.info("login: user %s", user.id)
            return redirect(safe_next(request.args.get("next"), url_for("accounts.dashboard")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out and end this login session on the server."""
    form = EmptyForm()
    if form.validate_on_submit():
        services.end_login_session(db.session, current_user.login_token)
        db.session.commit()
        log.info("logout: user %s", current_user.id)
        logout_user()
        session.clear()
        flash(_("You are logged out."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_FORM_LIMIT"], methods=["POST"])
def forgot_password():
    """Ask for a password reset link by email."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        found = services.request_password_reset(db.session, form.email.data)
        to, subject, body = normalise_email(form.email.data), "", ""
        if found:
            user, token = found
            with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
                to, subject, body = (
                    user.email,
                    _("Reset your stallapp password"),
                    render_template(
                        "email/password_reset.txt",
                        user=user,
                        link=absolute_url("accounts.reset_password", token=token),
                    ),
                )
        # One statement whether or not a mail is written: the cost does not tell who is known.
        send_email(to, subject, body, purpose=MailPurpose.PASSWORD_RESET, only_if=found is not None)
        db.session.commit()
        return render_template("accounts/forgot_password_sent.html")
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_FORM_LIMIT"], methods=["POST"])
def reset_password(token: str):
    """Set a new password with a link from the reset email."""
    try:
        services.check_password_reset(db.session, token)
    except InvalidToken as error:
        return render_template("accounts/link_invalid.html", message=error.message), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(db.session, token, form.password.data)
        except InvalidToken as error:
            db.session.rollback()
            return render_template("accounts/link_invalid.html", message=error.message), 404
        except StallError as error:
            db.session.rollback()
            form.password.errors.append(error.message)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("Your password is changed. Log in with the new one."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PUBLIC_FORM_LIMIT"], methods=["POST"])
def accept_invitation(token: str):
    """Accept an invitation: set up a new account, or join with the invited account logged in."""
    try:
        invitation = services.live_invitation(db.session, token)
    except InvalidToken as error:
        return render_template("accounts/link_invalid.html", message=error.message), 404
    invited_user = services.find_user_by_email(db.session, invitation.email)
    actor = current_user._get_current_object() if current_user.is_authenticated else None
    if invited_user is None:
        state = "new_account"
    elif actor is None:
        state = "log_in"
    elif actor.id != invited_user.id:
        state = "other_account"
    else:
        state = "accept"
    form = AcceptInvitationForm() if invited_user is None else EmptyForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(
                db.session,
                token,
                actor=actor,
                name=form.name.data if invited_user is None else None,
                password=form.password.data if invited_user is None else None,
            )
        except InvalidToken as error:
            db.session.rollback()
            return render_template("accounts/link_invalid.html", message=error.message), 404
        except (services.InvitationNeedsLogin, services.InvitationForAnotherAccount) as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            status = 403
        except StallError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            if invited_user is None:
                # A brand-new account: whoever was logged in on this browser makes way for it.
                if actor is not None:
                    services.end_login_session(db.session, actor.login_token)
                    logout_user()
                _log_in(user, remember=False)
            db.session.commit()
            flash(_("Welcome to %(group)s.", group=invitation.group.name), "success")
            return redirect(url_for("groups.home", group_slug=invitation.group.slug))
    login_link = url_for("accounts.login", next=url_for("accounts.accept_invitation", token=token))
    return render_template(
        "accounts/accept_invitation.html",
        form=form,
        invitation=invitation,
        state=state,
        login_link=login_link,
    ), status


@bp.route("/")
@login_required
def dashboard():
    """List the user's groups."""
    return render_template(
        "accounts/dashboard.html", groups=services.groups_of(db.session, current_user)
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Change your name, language and password."""
    profile_form = ProfileForm(prefix="profile", obj=current_user)
    password_form = ChangePasswordForm(prefix="password")
    if "profile-name" in request.form and profile_form.validate_on_submit():
        current_user.name = profile_form.name.data.strip()
        current_user.locale = profile_form.locale.data or None
        db.session.commit()
        flash(_("Your details are saved."), "success")
        return redirect(url_for("accounts.account"))
    if "password-current_password" in request.form and password_form.validate_on_submit():
        try:
            services.change_password(
                db.session,
                current_user,
                password_form.current_password.data,
                password_form.password.data,
            )
        except StallError as error:
            db.session.rollback()
            password_form.current_password.errors.append(error.message)
        else:
            db.session.commit()
            log.info("password changed: user %s", current_user.id)
            flash(_("Your password is changed; you were logged out everywhere else."), "success")
            return redirect(url_for("accounts.account"))
    return render_template(
        "accounts/account.html", profile_form=profile_form, password_form=password_form
    )
