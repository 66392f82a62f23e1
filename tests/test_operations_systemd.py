"""The systemd examples in docs/: the service restarts its whole process group, hardened."""

import configparser
import runpy

import pytest

from stallapp import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DOCS / name).read_text())
    return parser


def test_the_service_kills_the_whole_group_and_restarts_on_failure():
    service = unit("stallapp.service")["Service"]
    assert service["KillMode"] == "control-group"
    assert service["Restart"] == "on-failure"
    assert service["ExecStart"].split()[0].endswith("/gunicorn")
    assert service["ExecStart"].endswith(" wsgi:app")
    assert "--config /srv/stallapp/docs/gunicorn.conf.py" in service["ExecStart"]
    assert service["EnvironmentFile"] == "/etc/stallapp/stallapp.env"


def test_the_service_is_hardened():
    service = unit("stallapp.service")["Service"]
    assert service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/srv/stallapp/instance"
    assert service["PrivateTmp"] == "true"
    assert service["UMask"] == "0077"
    assert service["User"] != "root"
    assert unit("stallapp.service")["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.parametrize(
    ("job", "command"),
    [
        ("purge-expired", "purge-expired"),
        ("send-reminders", "send-reminders"),
        ("backup", "backup /var/backups/stallapp/"),
    ],
)
def test_each_job_has_a_oneshot_service_and_a_timer(job, command):
    service = unit(f"stallapp-{job}.service")["Service"]
    assert service["Type"] == "oneshot"
    assert f"flask --app stallapp {command}" in service["ExecStart"]
    assert service["EnvironmentFile"] == "/etc/stallapp/stallapp.env"
    assert service["UMask"] == "0077"
    timer = unit(f"stallapp-{job}.timer")
    assert timer["Timer"]["OnCalendar"]
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_the_gunicorn_settings_serve_locally():
    settings = runpy.run_path(str(DOCS / "gunicorn.conf.py"))
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["workers"] >= 2


def test_the_mail_worker_runs_as_a_service_that_restarts():
    service = unit("stallapp-mail.service")["Service"]
    assert service["ExecStart"].endswith("flask --app stallapp deliver-mail --loop")
    assert service["Restart"] == "always"
    assert service["KillSignal"] == "SIGTERM"
    assert service["EnvironmentFile"] == "/etc/stallapp/stallapp.env"
    assert service["UMask"] == "0077"
    assert unit("stallapp-mail.service")["Install"]["WantedBy"] == "multi-user.target"
