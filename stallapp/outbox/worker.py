"""Who runs the outbox's deliveries: the ``deliver-mail`` command, and the development server.

``flask --app stallapp deliver-mail`` delivers what is due and stops (cron, every minute);
``--loop`` keeps going (a systemd service). Without ``MAIL_SERVER`` both print the mail.

Under ``make run`` there is no worker to start by hand, so the web process delivers to its own
terminal: after each response has gone (``call_on_close``), it prints what is due. That keeps
the dev server a single process with no background thread to stop, and the links appear right
under the request that caused them. It is on only without ``MAIL_SERVER`` and only with
``MAIL_TO_TERMINAL`` (set by ``make run``) or debug mode: a production server never does it,
so no request ever talks to a mail server.
"""

import logging
import signal
import time

import click
from flask import Flask, current_app, request
from flask.cli import with_appcontext

from stallapp.database import WRITING_METHODS
from stallapp.extensions import db
from stallapp.outbox.services import DeliverySettings, deliver_all_due
from stallapp.outbox.transport import TerminalTransport, transport_for

log = logging.getLogger(__name__)


@click.command("deliver-mail")
@click.option("--loop", is_flag=True, help="Keep delivering (a service) instead of once (cron).")
@click.option(
    "--interval",
    default=5.0,
    show_default=True,
    help="With --loop: seconds between two looks at the outbox when it is empty.",
)
@with_appcontext
def deliver_mail(loop: bool, interval: float) -> None:
    """Deliver the mail waiting in the outbox, once or (--loop) until stopped."""
    config = current_app.config
    settings = DeliverySettings.from_config(config)
    stopping = []
    if loop:
        # systemd stops the service with SIGTERM: finish the batch in hand, then leave, so no
        # message is left half-sent.
        signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    while True:
        report = deliver_all_due(db.engine, transport_for(config), settings)
        if report.handled or not loop:
            click.echo(
                f"Mail sent: {report.sent}, to retry: {report.retrying}, "
                f"given up: {report.failed}, taken over from a stopped worker: "
                f"{report.taken_over}."
            )
        if not loop:
            return
        # Short naps, so that SIGTERM is answered within half a second when idle.
        step = min(0.5, interval)
        slept = 0.0
        while slept < interval and not stopping:
            time.sleep(step)
            slept += step
        if stopping:
            return


def register_terminal_delivery(app: Flask) -> None:
    """Print due mail to the terminal after each response, in development without SMTP."""
    config = app.config
    if config["MAIL_SERVER"] or not (config["MAIL_TO_TERMINAL"] or app.debug):
        return

    def deliver() -> None:
        with app.app_context():
            try:
                deliver_all_due(
                    db.engine,
                    TerminalTransport(config["MAIL_DEFAULT_SENDER"]),
                    DeliverySettings.from_config(config),
                )
            except Exception:
                # A development convenience must never break the page that was just served.
                log.exception("printing the outbox to the terminal failed")

    @app.after_request
    def deliver_after_response(response):
        # Only after a request that may have written mail: a page's stylesheet and images
        # must not each take the write lock to look at the outbox.
        if request.method in WRITING_METHODS:
            response.call_on_close(deliver)
        return response
