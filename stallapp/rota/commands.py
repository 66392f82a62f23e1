"""``flask --app stallapp send-reminders``: the rota's reminders, for cron."""

import click
from flask.cli import with_appcontext

from stallapp.accounts.models import Group
from stallapp.extensions import db
from stallapp.rota import emails, lists, reminders


@click.command("send-reminders")
@with_appcontext
def send_reminders() -> None:
    """Email reminders for shifts 24–48 hours ahead (once each) and tell organisers of gaps."""
    session = db.session
    due = reminders.claim_due_reminders(session)
    shortages = reminders.claim_shortages(session)
    organisers = lists.organisers_by_group(session, shortages)
    groups = {group_id: session.get(Group, group_id) for group_id in shortages}
    # No request here: the emails' links come from PUBLIC_BASE_URL (stallapp.urls.absolute_url).
    for assignment in due:
        emails.reminder(assignment)
    told = sum(
        emails.shortages(groups[group_id], shifts, organisers[group_id])
        for group_id, shifts in shortages.items()
    )
    # The claims and their emails commit together: a rerun finds nothing left to send, and a
    # failure before this point leaves both to the next run.
    session.commit()
    short = sum(len(shifts) for shifts in shortages.values())
    click.echo(f"Sent {len(due)} shift reminders.")
    click.echo(f"Told {told} organisers about {short} shifts still short.")
