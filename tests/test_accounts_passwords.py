"""Password rules and Argon2id hashing."""

import pytest

from stallapp.accounts import passwords


@pytest.mark.parametrize(
    ("candidate", "problem"),
    [
        ("short", "at least 8"),
        ("x" * 129, "at most 128"),
        ("password", "most common"),
        ("Password1", "most common"),
        ("iloveyou", "most common"),
    ],
)
def test_bad_passwords_are_refused(app, candidate, problem):
    with app.test_request_context():
        assert problem in passwords.password_problem(candidate)


@pytest.mark.parametrize("candidate", ["eight ch", "x" * 64, "workers of the world unite"])
def test_good_passwords_pass(app, candidate):
    with app.test_request_context():
        assert passwords.password_problem(candidate) is None


def test_hash_is_argon2id_and_verifies(app):
    hashed = passwords.hash_password("workers of the world")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "workers of the world")
    assert not passwords.verify_password(hashed, "workers of the World")
    assert not passwords.verify_password("not a hash", "anything")


def test_production_defaults_are_argon2_cffi_defaults():
    from argon2 import PasswordHasher

    from stallapp.config import DefaultConfig

    defaults = PasswordHasher()
    assert defaults.time_cost <= DefaultConfig.ARGON2_TIME_COST
    assert defaults.memory_cost <= DefaultConfig.ARGON2_MEMORY_COST
