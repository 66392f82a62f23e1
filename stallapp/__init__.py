"""stallapp: literature stalls and public meetings for small campaigning groups."""

import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from stallapp.config import DefaultConfig, from_environment
from stallapp.inputs import AsciiIntegerConverter, register_input_guard
from stallapp.public_cache import PublicAnswerCache
from stallapp.urls import TrustedHostsOnly, configure_public_urls

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app from defaults, then instance/config.py and the environment, or test_config."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    # Before any route is added: ids in addresses are ASCII digits (see stallapp.inputs).
    app.url_map.converters["int"] = AsciiIntegerConverter
    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(from_environment())
    else:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'stallapp.sqlite'}"
        )
    from stallapp.operations import secure_instance

    # instance/ 0700 and the SQLite files 0600, before anything creates or connects to them.
    secure_instance(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(Path(app.instance_path))
    configure_public_urls(app)
    app.wsgi_app = TrustedHostsOnly(app, PublicAnswerCache(app, app.wsgi_app))
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        # X-Forwarded-Host stays ignored (x_host=0): links come from PUBLIC_BASE_URL only, and
        # the Host the proxy passes on is the one TRUSTED_HOSTS checks.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)

    register_extensions(app)
    register_blueprints(app)
    register_cli(app)
    register_errorhandlers(app)
    register_input_guard(app)
    register_security_headers(app)
    register_template_helpers(app)
    register_mail_delivery(app)
    register_caching_and_compression(app)
    return app


def load_secret_key(instance_path: Path) -> str:
    """Return the key kept in ``instance/secret_key``, generating it on the first start."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def register_extensions(app: Flask) -> None:
    import stallapp.models  # noqa: F401 - every model registered before the first query
    from stallapp.accounts.services import user_for_login_token
    from stallapp.database import configure_engine, register_write_lock
    from stallapp.errors import database_failed
    from stallapp.extensions import babel, csrf, db, limiter, login_manager, migrate
    from stallapp.i18n import select_locale, select_timezone

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    register_write_lock(app, db)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    # The session holds a revocable server-side token; "strong" protection would log people
    # out whenever a phone changes network, which at a stall is all the time.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(token: str):
        if database_failed():
            return None  # the error page is drawn without the database, as for a visitor
        return user_for_login_token(db.session, token)


def register_blueprints(app: Flask) -> None:
    from stallapp.accounts import admin_views, group_views
    from stallapp.accounts import views as account_views

    app.register_blueprint(account_views.bp)
    app.register_blueprint(group_views.bp)
    app.register_blueprint(admin_views.bp)

    from stallapp.qr import views as qr_views

    app.register_blueprint(qr_views.bp)

    from stallapp.rota import views as rota_views

    app.register_blueprint(rota_views.bp)

    from stallapp.events import views as event_views
    from stallapp.public import events as public_events

    app.register_blueprint(event_views.bp)
    app.register_blueprint(public_events.bp)

    from stallapp.contacts import views as contact_views
    from stallapp.public import contacts as public_contacts

    app.register_blueprint(contact_views.bp)
    app.register_blueprint(public_contacts.bp)

    from stallapp.public import catalogue as public_catalogue
    from stallapp.sales import install as sale_install
    from stallapp.sales import views as sale_views
    from stallapp.stock import views as stock_views

    app.register_blueprint(stock_views.bp)
    app.register_blueprint(sale_views.bp)
    app.register_blueprint(sale_install.bp)
    app.register_blueprint(public_catalogue.bp)

    from stallapp.reports import views as report_views

    app.register_blueprint(report_views.bp)

    from stallapp.announcements import views as announcement_views
    from stallapp.outbox import views as outbox_views

    app.register_blueprint(announcement_views.bp)
    app.register_blueprint(outbox_views.bp)

    from stallapp.network import views as network_views
    from stallapp.public import feeds as public_feeds
    from stallapp.public import network as public_network

    app.register_blueprint(network_views.bp)
    app.register_blueprint(public_network.bp)
    app.register_blueprint(public_feeds.bp)


def register_cli(app: Flask) -> None:
    from stallapp.cli import commands

    for command in commands:
        app.cli.add_command(command)


def register_mail_delivery(app: Flask) -> None:
    from stallapp.outbox.worker import register_terminal_delivery

    # `make run` without SMTP: the dev server prints the mail (see stallapp.outbox.worker).
    register_terminal_delivery(app)


def register_caching_and_compression(app: Flask) -> None:
    from stallapp.caching import register_conditional_answers
    from stallapp.compression import register_compression
    from stallapp.static_files import register_static_files

    register_static_files(app)
    register_conditional_answers(app)
    register_compression(app)


def register_errorhandlers(app: Flask) -> None:
    from stallapp.errors import register_errorhandlers as register

    register(app)


def register_security_headers(app: Flask) -> None:
    from stallapp.security import register_security_headers as register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from stallapp.templating import register_template_helpers as register

    register(app)
