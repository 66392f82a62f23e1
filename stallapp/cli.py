"""Command-line tasks: ``flask --app stallapp <command>``."""

import click
from flask import current_app
from flask.cli import with_appcontext

from stallapp.accounts import services
from stallapp.contacts import privacy as contact_privacy
from stallapp.demo import DEMO_LOGINS, DEMO_PASSWORD, has_any_user, load_demo_data
from stallapp.errors import StallError
from stallapp.extensions import db
from stallapp.operations import backup, restore
from stallapp.outbox import services as outbox_services
from stallapp.outbox.worker import deliver_mail
from stallapp.rota.commands import send_reminders


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Admin", help="Display name of the new admin.")
@click.password_option(help="Prompted for when not given.")
@with_appcontext
def create_admin(email: str, name: str, password: str) -> None:
    """Create a site admin account, or make an existing account admin."""
    user = services.find_user_by_email(db.session, email)
    if user is not None:
        user.is_admin = True
        db.session.commit()
        click.echo(f"{user.email} is now a site admin.")
        return
    try:
        user = services.create_user(db.session, email, name, password, is_admin=True)
    except StallError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created site admin {user.email}.")


@click.command("demo-data")
@click.option(
    "--first-run", is_flag=True, help="Load only into an empty database (used by `make run`)."
)
@with_appcontext
def demo_data(first_run: bool) -> None:
    """Load the demo groups, accounts and data (safe to run again)."""
    if first_run and has_any_user(db.session):
        click.echo("Database already has accounts; demo data not loaded.")
    else:
        load_demo_data(db.session)
        db.session.commit()
        click.echo("Demo data loaded.")
    click.echo(f"Demo logins (password '{DEMO_PASSWORD}', demo only):")
    for login in DEMO_LOGINS:
        click.echo(f"  {login.email:<28} {login.description}")


@click.command("purge-expired")
@with_appcontext
def purge_expired() -> None:
    """Apply each group's retention policy; report what went, in counts only (run from cron)."""
    report = contact_privacy.purge_expired(db.session)
    resets_deleted = services.purge_password_resets(db.session)
    mail_deleted = outbox_services.purge(db.session, current_app.config["MAIL_KEEP_SENT"])
    db.session.commit()
    for line in report.lines():
        click.echo(line)
    click.echo(f"Old password reset requests deleted: {resets_deleted}")
    click.echo(f"Old sent or given-up emails deleted: {mail_deleted}")


commands = [
    create_admin,
    demo_data,
    purge_expired,
    send_reminders,
    deliver_mail,
    backup,
    restore,
]
