"""Unguessable single-use tokens: the link carries the token, the database only its hash."""

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """Return a fresh URL-safe token and the hash to store for it."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest stored in place of ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()
