"""WSGI entry point: ``gunicorn wsgi:app``."""

from stallapp import create_app

app = create_app()
