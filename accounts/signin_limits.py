"""Who may try a password now, and what a wrong one costs (docs/security.md, "Signing in and blocking").

User names are public (the other party of a dispute sees them), so no limit here may let a
stranger keep an account's owner out:

- **Per account and address, a hard block.** After SIGNIN_FAILURES_PER_ACCOUNT_ADDRESS wrong
  passwords for one account from one address in SIGNIN_WINDOW_MINUTES, that address is refused
  for that account, even with the right password, until the window ends. Other addresses are not.
- **Per address, a hard block.** SIGNIN_FAILURES_PER_ADDRESS wrong passwords from one address,
  whatever the accounts, refuse that address for the rest of the window.
- **Per account, from every address, a delay.** Once SIGNIN_DELAY_AFTER_FAILURES wrong passwords
  for the account have come in a run (no gap longer than SIGNIN_STREAK_QUIET_MINUTES), each try
  waits its turn: the account's next try is checked SIGNIN_DELAY_FIRST_SECONDS after a failure,
  doubling with each further failure, at most SIGNIN_DELAY_MAX_SECONDS. A try that comes too soon
  is not checked; it is told how long to wait, and that address gets a ticket: when it comes back
  after the wait its try is checked, whoever else tried meanwhile. So the owner waits at most
  SIGNIN_DELAY_MAX_SECONDS, however often a stranger sends a wrong password.
- **A device that signed in to the account before** (a cookie signed with Django's signing,
  SIGNIN_DEVICE_COOKIE_DAYS long, renewed at each sign-in) is checked at once, past every block
  and delay. Its own wrong passwords still count: after SIGNIN_FAILURES_PER_DEVICE of them in the
  window it is treated as any other device until the window ends. A new password (reset or
  change) forgets every device, as it ends every session.
- **The owner is mailed** at the SIGNIN_NOTIFY_AFTER_FAILURES-th wrong password of a run, once
  per run (the outbox's dedupe key names the run).

Counts are kept per account *and password*: a new password starts them afresh, so completing a
reset lets the owner straight in. A login that names no account is counted by what was typed and
answered exactly like a real one. Counters live in the cache (core.throttle).
"""

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from core.throttle import Streak, Throttle, client_address

from .emails import email_queue
from .models import User

DEVICE_SALT = "accounts.signin-device"
FINGERPRINT_SALT = "accounts.signin-limits.password"
# Accounts one browser is remembered for (a shared family computer, a staff member's two roles).
DEVICE_ACCOUNTS_KEPT = 5


@dataclass(frozen=True)
class SignInRefusal:
    """Why a try was not checked, or what holds the next one: "blocked" (this address, for
    minutes) or "delayed" (the account's turn, for seconds)."""

    kind: Literal["blocked", "delayed"]
    seconds: int


@dataclass(frozen=True)
class SignInTry:
    """One sign-in as `ident` (an account with its current password, or a login naming none)."""

    ident: str
    address: str
    account: User | None
    # The device cookie's id when it names this account with its current password.
    device: str | None
    # A known device that has not itself failed too often: checked at once, past every limit.
    trusted: bool


# --- the counters -----------------------------------------------------------------------------


def _window() -> int:
    return settings.SIGNIN_WINDOW_MINUTES * 60


def _pair_throttle() -> Throttle:
    return Throttle("signin-account-address", settings.SIGNIN_FAILURES_PER_ACCOUNT_ADDRESS, _window())


def _address_throttle() -> Throttle:
    return Throttle("signin-address", settings.SIGNIN_FAILURES_PER_ADDRESS, _window())


def _device_throttle() -> Throttle:
    return Throttle("signin-device", settings.SIGNIN_FAILURES_PER_DEVICE, _window())


def _streak() -> Streak:
    return Streak("signin-account", settings.SIGNIN_STREAK_QUIET_MINUTES * 60)


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _gate_key(attempt: SignInTry) -> str:
    return f"signin-gate:{_digest(attempt.ident)}"


def _ticket_key(attempt: SignInTry) -> str:
    return f"signin-ticket:{_digest(attempt.ident, attempt.address)}"


def _pair(attempt: SignInTry) -> str:
    return f"{attempt.ident}|{attempt.address}"


def delay_seconds(failures: int) -> int:
    """The account's wait after `failures` wrong passwords in a run: none, then doubling, capped."""
    after = settings.SIGNIN_DELAY_AFTER_FAILURES
    if failures < after:
        return 0
    doublings = min(failures - after, 32)
    return int(min(settings.SIGNIN_DELAY_FIRST_SECONDS * 2**doublings, settings.SIGNIN_DELAY_MAX_SECONDS))


def password_fingerprint(user: User) -> str:
    """A keyed hash of the password hash, as Django's session hash is (with a salt of its own, so
    the cookie shows nothing of that one): a new password changes it, and with it the counts and
    the known devices, as Django ends the sessions."""
    return salted_hmac(FINGERPRINT_SALT, user.password, algorithm="sha256").hexdigest()[:16]


def signin_try(*, request: HttpRequest | None, login: str, account: User | None) -> SignInTry:
    if account is not None:
        ident = f"account:{account.pk}:{password_fingerprint(account)}"
    else:
        ident = f"login:{login.strip().lower()}"
    address = client_address(request) if request is not None else ""
    device = _known_device(request, account) if request is not None and account is not None else None
    trusted = device is not None and not _device_throttle().retry_after(device)
    return SignInTry(ident=ident, address=address, account=account, device=device, trusted=trusted)


# --- before and after the password is checked -------------------------------------------------


def admit(attempt: SignInTry, now: float) -> SignInRefusal | None:
    """Let this try be checked (None), or say why not. A try let through is already counted as a
    failure; exactly one of try_succeeded() or try_failed() must follow it."""
    if attempt.trusted:
        return None
    pair, address = _pair_throttle(), _address_throttle()
    if not pair.take(_pair(attempt)):
        return _blocked(attempt)
    if not address.take(attempt.address):
        pair.give_back(_pair(attempt))
        return _blocked(attempt)
    if refusal := _wait_turn(attempt, now):
        pair.give_back(_pair(attempt))
        address.give_back(attempt.address)
        return refusal
    return None


def _blocked(attempt: SignInTry) -> SignInRefusal:
    seconds = max(_pair_throttle().retry_after(_pair(attempt)), _address_throttle().retry_after(attempt.address))
    return SignInRefusal("blocked", max(seconds, 1))


def _wait_turn(attempt: SignInTry, now: float) -> SignInRefusal | None:
    """The account's delay: a free turn, a ticket that has come due, or a ticket to come back with."""
    delay = delay_seconds(_streak().count(attempt.ident))
    if not delay:
        return None
    ticket_key, gate_key = _ticket_key(attempt), _gate_key(attempt)
    ripe_at = cache.get(ticket_key)
    if ripe_at is not None:
        if ripe_at > now:
            return SignInRefusal("delayed", _seconds(ripe_at - now))
        if cache.delete(ticket_key):
            return None
        # The same ticket used by a parallel request this instant: this one queues afresh.
    # Take the account's turn; it stays taken for `delay` seconds whatever this try turns out to be.
    if cache.add(gate_key, now + delay, timeout=delay):
        return None
    open_at = cache.get(gate_key) or now + delay
    cache.add(ticket_key, open_at, timeout=_seconds(open_at - now) + _window())
    ripe_at = cache.get(ticket_key) or open_at
    return SignInRefusal("delayed", _seconds(ripe_at - now))


def _seconds(span: float) -> int:
    return max(1, math.ceil(span))


def try_succeeded(attempt: SignInTry) -> None:
    """The right password: this address's failures for the account are forgotten; its count
    against the address was only the try's own (others' wrong passwords stay counted)."""
    if attempt.device is not None:
        _device_throttle().reset(attempt.device)
    if attempt.trusted:
        return
    _pair_throttle().reset(_pair(attempt))
    _address_throttle().give_back(attempt.address)


def try_failed(attempt: SignInTry, now: float) -> None:
    if attempt.trusted:
        # Let through without being counted: counted now, like any wrong password.
        _pair_throttle().hit(_pair(attempt))
        _address_throttle().hit(attempt.address)
    if attempt.device is not None:
        _device_throttle().hit(attempt.device)
    failures, run_started = _streak().add(attempt.ident, now)
    if delay := delay_seconds(failures):
        cache.set(_gate_key(attempt), now + delay, timeout=delay)
    if attempt.account is not None and failures == settings.SIGNIN_NOTIFY_AFTER_FAILURES:
        _tell_owner(attempt.account, failures=failures, run_started=run_started)


def next_try(attempt: SignInTry, now: float) -> SignInRefusal | None:
    """What holds this address's next try for the account, after a wrong password: a block
    (minutes), the account's delay (seconds), or nothing."""
    if attempt.device is not None and not _device_throttle().retry_after(attempt.device):
        return None
    pair = _pair_throttle().retry_after(_pair(attempt))
    address = _address_throttle().retry_after(attempt.address)
    if pair or address:
        return SignInRefusal("blocked", max(pair, address))
    open_at = cache.get(_gate_key(attempt))
    if open_at is not None and open_at > now:
        return SignInRefusal("delayed", _seconds(open_at - now))
    return None


def _tell_owner(account: User, *, failures: int, run_started: float) -> None:
    started = datetime.fromtimestamp(run_started, tz=UTC)
    email_queue(
        user=account,
        template="signin_failures",
        context={"failures": failures, "started": started, "max_delay": settings.SIGNIN_DELAY_MAX_SECONDS},
        # One letter per run: the run is named by the moment it began.
        dedupe_key=f"signin-failures:{account.pk}:{run_started:.6f}",
    )


# --- the device cookie ------------------------------------------------------------------------


def _read_device_cookie(request: HttpRequest) -> dict[str, Any] | None:
    raw = request.COOKIES.get(settings.SIGNIN_DEVICE_COOKIE_NAME)
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=DEVICE_SALT, max_age=settings.SIGNIN_DEVICE_COOKIE_DAYS * 86400)
    except signing.BadSignature:  # altered, or older than the cookie's life (SignatureExpired)
        return None
    if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not isinstance(value.get("a"), dict):
        return None
    return value


def _known_device(request: HttpRequest, account: User) -> str | None:
    """The device id if this browser signed in to `account`, with its current password, within
    the cookie's life."""
    value = _read_device_cookie(request)
    if value is None:
        return None
    entry = value["a"].get(str(account.pk))
    if not isinstance(entry, list) or len(entry) != 2:
        return None
    fingerprint, signed_in_at = entry
    max_age = settings.SIGNIN_DEVICE_COOKIE_DAYS * 86400
    fresh = isinstance(signed_in_at, int | float) and datetime.now(UTC).timestamp() - signed_in_at <= max_age
    if fingerprint != password_fingerprint(account) or not fresh:
        return None
    return str(value["id"])


def remember_device(request: HttpRequest, response: HttpResponse, account: User) -> None:
    """After a sign-in: this browser is a known device for `account` for the cookie's life."""
    value = _read_device_cookie(request) or {"id": secrets.token_urlsafe(16), "a": {}}
    now = datetime.now(UTC).timestamp()
    accounts = {pk: entry for pk, entry in value["a"].items() if pk != str(account.pk)}
    accounts[str(account.pk)] = [password_fingerprint(account), int(now)]
    newest = sorted(accounts.items(), key=lambda item: item[1][1] if isinstance(item[1], list) else 0)
    value["a"] = dict(newest[-DEVICE_ACCOUNTS_KEPT:])
    response.set_cookie(
        settings.SIGNIN_DEVICE_COOKIE_NAME,
        signing.dumps(value, salt=DEVICE_SALT, compress=True),
        max_age=settings.SIGNIN_DEVICE_COOKIE_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
