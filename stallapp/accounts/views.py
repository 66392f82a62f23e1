"""Logging in and out, password resets, invitations, the dashboard and account settings."""

import logging

from flask import (
    Blueprint,
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
from stallapp.mail import send_email
from stallapp.permissions import login_required
from stallapp.security import safe_next
from stallapp.tokens import hash_token

bp = Blueprint("accounts", __name__)
log = logging.getLogger(__name__)


def _login_account_key() -> str:
    """Rate-limit key for one account: a hash, so the limiter's store holds no addresses."""
    email = services.normalise_email(request.form.get("email", ""))
    return "login-account:" + hash_token(email)


def _failed_attempt(response) -> bool:
    return response.status_code != 302


def _log_in(user, remember: bool) -> None:
    """Start a fresh session for ``user``: nothing from before the login survives."""
    session.clear()
    services.start_login_session(db.session, user, remember=remember)
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed_attempt,
    scope="login-account",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed_attempt,
    scope="login-address",
)
def login():
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(db.session, form.email.data, form.password.data)
        except StallError as error:
            db.session.commit()
            log.warning("login failed from %s", request.remote_addr)
            form.password.errors.append(error.message)
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
        db.session.commit()
        if found:
            user, token = found
            with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
                send_email(
                    user.email,
                    _("Reset your stallapp password"),
                    render_template(
                        "email/password_reset.txt",
                        user=user,
                        link=url_for("accounts.reset_password", token=token, _external=True),
                    ),
                )
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
    """Accept an invitation to a group: set up an account, or join with an existing one."""
    try:
        invitation = services.live_invitation(db.session, token)
    except InvalidToken as error:
        return render_template("accounts/link_invalid.html", message=error.message), 404
    existing_user = services.find_user_by_email(db.session, invitation.email)
    form = EmptyForm() if existing_user else AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            if existing_user:
                user = services.accept_invitation(db.session, token)
            else:
                user = services.accept_invitation(
                    db.session, token, name=form.name.data, password=form.password.data
                )
        except InvalidToken as error:
            db.session.rollback()
            return render_template("accounts/link_invalid.html", message=error.message), 404
        except StallError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            if current_user.is_authenticated and current_user.id == user.id:
                db.session.commit()
            else:
                if current_user.is_authenticated:
                    services.end_login_session(db.session, current_user.login_token)
                    logout_user()
                _log_in(user, remember=False)
                db.session.commit()
            flash(_("Welcome to %(group)s.", group=invitation.group.name), "success")
            return redirect(url_for("groups.home", group_slug=invitation.group.slug))
    return render_template(
        "accounts/accept_invitation.html",
        form=form,
        invitation=invitation,
        existing_user=existing_user is not None,
    )


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
