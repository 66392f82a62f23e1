"""The physical limit: a Flask app that answers "ok" and does nothing else.

``bench/run.py`` serves it under the same gunicorn settings as stallapp and divides each
page's requests per second by its rate, so the ratio says how far a page is from the best a
Flask app on this machine can do, whatever the machine.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    """Answer "ok"."""
    return "ok"
