"""Counting failed logins so that guessing is slow and the owner is never locked out.

Failures are counted in the rate limiter's store (``RATELIMIT_STORAGE_URI``: memory in one
process, Redis to share the counts between workers), through the limits library's strategy that
Flask-Limiter has set up; the store expires every count on its own. Three counts are kept:

- per account *and* address: a hard limit (``LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS``), so one
  address cannot keep guessing one account's password;
- per address: a looser hard limit (``LOGIN_LIMIT_PER_ADDRESS``), since every phone at a venue
  shares one address;
- per account across all addresses: never a refusal, only a pause before the password is
  checked, growing with the failures and capped (``LOGIN_SLOWDOWN_*``). Refusing here would let
  anyone lock the owner out by failing on purpose from a few addresses.

The store holds only keyed hashes (HMAC with ``SECRET_KEY``): neither addresses nor emails.
Checking a limit and counting a failure are two steps, so guesses sent in parallel can pass a
limit by as many as are in flight at once (a few workers' worth), never more.
With ``RATELIMIT_ENABLED = False`` nothing is counted and nobody waits, like every other limit.
"""

import hashlib
import hmac
import math
import time

from flask import current_app
from limits import RateLimitItem, RateLimitItemPerMinute, parse_many
from limits.strategies import RateLimiter

from stallapp.extensions import limiter

#: The first pause once the free failures are used up; each further failure doubles it.
FIRST_PAUSE_SECONDS = 0.25
#: The per-account count is an item so large it never refuses; only its count is read.
_COUNT_CEILING = 1_000_000
#: The pause budget is counted in tenths of a second.
_BUDGET_UNITS_PER_SECOND = 10


def pause(seconds: float) -> None:
    """Wait before checking a password; tests replace this to record the pause instead."""
    time.sleep(seconds)


def _strategy() -> RateLimiter | None:
    return limiter.limiter if limiter.enabled else None


def _keyed_hash(kind: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"]
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()[:32]


def _account(email: str) -> str:
    return _keyed_hash("login-account", email)


def _address(address: str) -> str:
    return _keyed_hash("login-address", address)


def _hard_limits(email: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    config = current_app.config
    pair = ("login-pair", _account(email), _address(address))
    per_address = ("login-address", _address(address))
    return [
        *((item, pair) for item in parse_many(config["LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"])),
        *((item, per_address) for item in parse_many(config["LOGIN_LIMIT_PER_ADDRESS"])),
    ]


def _account_counter(email: str) -> tuple[RateLimitItem, tuple[str, ...]]:
    minutes = current_app.config["LOGIN_SLOWDOWN_WINDOW_MINUTES"]
    return RateLimitItemPerMinute(_COUNT_CEILING, minutes), ("login-slowdown", _account(email))


def address_is_blocked(email: str, address: str) -> bool:
    """Tell whether ``address`` has used up its failed logins, for this account or for all."""
    strategy = _strategy()
    if strategy is None:
        return False
    return not all(strategy.test(item, *ids) for item, ids in _hard_limits(email, address))


def recent_failures(email: str) -> int:
    """Return the failed logins for this account, from any address, in the slow-down window."""
    strategy = _strategy()
    if strategy is None:
        return 0
    item, ids = _account_counter(email)
    return item.amount - strategy.get_window_stats(item, *ids).remaining


def delay_for(failures: int) -> float:
    """Return the pause in seconds before checking a password after ``failures`` failures."""
    config = current_app.config
    free = config["LOGIN_SLOWDOWN_FREE_FAILURES"]
    if failures < free:
        return 0.0
    # min() before the power keeps the exponent small whatever the count.
    doublings = min(failures - free, 16)
    return min(FIRST_PAUSE_SECONDS * 2**doublings, config["LOGIN_SLOWDOWN_MAX_SECONDS"])


def claim_pause(seconds: float) -> bool:
    """Take ``seconds`` from the site's pause budget; False when it is spent for this minute.

    Every pause holds a worker. Without a budget, guesses from many addresses (cheap with IPv6)
    at a slowed-down account would keep every worker asleep and the site would stop answering
    anyone; with it, at most ``LOGIN_PAUSE_BUDGET_SECONDS_PER_MINUTE`` of worker time goes to
    pauses, and logins beyond it are checked at once.
    """
    strategy = _strategy()
    if strategy is None:
        return False
    budget = current_app.config["LOGIN_PAUSE_BUDGET_SECONDS_PER_MINUTE"] * _BUDGET_UNITS_PER_SECOND
    cost = max(1, math.ceil(seconds * _BUDGET_UNITS_PER_SECOND))
    return strategy.hit(RateLimitItemPerMinute(budget), "login-pause-budget", cost=cost)


def count_failure(email: str, address: str) -> None:
    """Count one failed login against the pair, the address and the account."""
    strategy = _strategy()
    if strategy is None:
        return
    for item, ids in [*_hard_limits(email, address), _account_counter(email)]:
        strategy.hit(item, *ids)
