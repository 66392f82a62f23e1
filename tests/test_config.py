"""Configuration: a secret key generated once, environment settings."""

from pathlib import Path

from stallapp import load_secret_key
from stallapp.config import from_environment


def test_secret_key_is_generated_once_and_kept(tmp_path: Path):
    first = load_secret_key(tmp_path)
    second = load_secret_key(tmp_path)
    assert first == second
    assert len(first) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/stall")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("PROXY_FIX_HOPS", "1")
    settings = from_environment()
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/stall"
    assert settings["SECRET_KEY"] == "from-env"
    assert settings["PROXY_FIX_HOPS"] == 1


def test_no_secret_key_in_the_repository():
    root = Path(__file__).resolve().parent.parent
    config_text = (root / "stallapp" / "config.py").read_text()
    assert "SECRET_KEY =" not in config_text
