"""Signing in, signing up and password reset, with the counters that slow down guessing.

- Sign in by username or e-mail (SignInBackend, the only password backend, so admin's sign-in is held to
  the same limits). The limits (accounts.signin_limits) never let a stranger keep the owner out:
  the hard blocks are per (account, address) and per address; per account there is only a
  growing, capped delay; a device that signed in before is checked at once; the owner is mailed
  when wrong passwords keep coming. A successful sign-in clears only that address's count for
  the account: an address that guesses at many accounts cannot wipe its count by signing in to
  one of its own. A new password (a completed reset) starts every count afresh.
- Password reset and sign-up never tell whether an address has an account. The request only
  validates the form, counts, and hands the address to a Celery job; the job looks the address
  up and queues the right letter in the outbox (accounts.emails). So the reply takes the same
  work and the same time either way, and the letter is retried like every other.
- Sign-up: the form asks for the address, a username and the role; the letter to a new address
  carries a signed link (nothing is stored until it is opened) where the person who owns the
  mailbox chooses the password and the account is created. An address that has an account gets
  "someone tried to sign up with your address" instead. The username is public: sign-up says when
  it is taken, and it may not contain "@", so it never shadows someone's e-mail at sign-in.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from kombu.exceptions import OperationalError

from core.throttle import Throttle, client_address, hit_all

from . import signin_limits
from .emails import email_queue, email_queue_to_address
from .models import User
from .permission_cache import permissions_cached
from .signin_limits import SignInRefusal, SignInTry

logger = logging.getLogger(__name__)

SIGN_UP_SALT = "accounts.sign-up"


# --- counters ---------------------------------------------------------------------------------


def _throttle(scope: str, limit: int, minutes: int) -> Throttle:
    return Throttle(scope, limit, minutes * 60)


@dataclass(frozen=True)
class SignInOutcome:
    """What the backend did with this request's sign-in, for the form's message and the device
    cookie (accounts.middleware.SignInDeviceMiddleware)."""

    attempt: SignInTry
    refusal: SignInRefusal | None = None
    user: User | None = None


_OUTCOME = "signin_outcome"


def signin_outcome(request: HttpRequest | None) -> SignInOutcome | None:
    return getattr(request, _OUTCOME, None)


def signin_next_try(outcome: SignInOutcome) -> SignInRefusal | None:
    """After a wrong password: what holds this address's next try (a block, the delay) or None."""
    return signin_limits.next_try(outcome.attempt, time.time())


def password_reset_checks(*, address: str, email: str) -> list[tuple[Throttle, str]]:
    window = settings.PASSWORD_RESET_WINDOW_MINUTES
    return [
        (_throttle("reset-address", settings.PASSWORD_RESET_PER_ADDRESS, window), address),
        (_throttle("reset-email", settings.PASSWORD_RESET_PER_EMAIL, window), email),
    ]


def sign_up_checks(*, address: str, email: str) -> list[tuple[Throttle, str]]:
    window = settings.SIGNUP_WINDOW_MINUTES
    return [
        (_throttle("signup-address", settings.SIGNUP_PER_ADDRESS, window), address),
        # Every sign-up sends a letter: a stranger must not fill someone's mailbox with them.
        (_throttle("signup-email", settings.SIGNUP_PER_EMAIL, window), email),
    ]


# --- signing in -------------------------------------------------------------------------------


def account_for_login(login: str) -> User | None:
    """The account `login` names: a username (exact, as Django compares them), else an e-mail
    that exactly one account has. The same queries run whether or not it exists."""
    login = login.strip()
    user = User._default_manager.filter(username=login).first()
    if user is None and "@" in login:
        matches = list(User._default_manager.filter(email__iexact=login)[:2])
        # Two accounts with one address (made before addresses were unique) sign in by username.
        user = matches[0] if len(matches) == 1 else None
    return user


# Every column, whatever the model adds later: raw() sets each field from the column of its name.
_USER_BY_PK = f"SELECT * FROM {User._meta.db_table} WHERE {User._meta.pk.column} = %s"


class SignInBackend(ModelBackend):
    """Django's backend, signing in by username or e-mail, refusing while throttled.

    A blocked account (User.blocked_at) signs in like any other: the middleware then shows it the
    page with the reason and the appeal.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = account_for_login(username)
        attempt = signin_limits.signin_try(request=request, login=username, account=user)
        if refusal := signin_limits.admit(attempt, time.time()):
            _record(request, SignInOutcome(attempt, refusal=refusal))
            # Raised, not returned: authenticate() then asks no other backend. The form says how
            # long to wait (accounts.forms.SignInLimitsMixin).
            raise PermissionDenied
        if user is None:
            # Hash anyway, so a missing account answers as slowly as a wrong password.
            User().set_password(password)
        elif user.check_password(password) and self.user_can_authenticate(user):
            signin_limits.try_succeeded(attempt)
            _record(request, SignInOutcome(attempt, user=user))
            return user
        signin_limits.try_failed(attempt, time.time())
        _record(request, SignInOutcome(attempt))
        return None

    def get_user(self, user_id: Any) -> User | None:
        """Django's answer (the account of a signed-in session, asked on every signed-in request),
        read by a statement written once (QuerySet.raw()), which costs half the Python of the query
        the ORM builds for `get(pk=...)`."""
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        user = next(iter(User.objects.raw(_USER_BY_PK, [pk])), None)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        # Django's answer, kept between requests (accounts.permission_cache): the same rule for
        # inactive accounts and per-object checks, which it answers without the database.
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        # Kept on the user object for the rest of the request under a name of our own (Django's
        # backend keeps its answer in a private attribute that is not ours to write).
        kept: set[str] | None = getattr(user_obj, "permissions_this_request", None)
        if kept is None:
            kept = permissions_cached(
                user=user_obj, read=lambda: super(SignInBackend, self).get_all_permissions(user_obj)
            )
            user_obj.permissions_this_request = kept
        return kept


def _record(request: HttpRequest | None, outcome: SignInOutcome) -> None:
    if request is not None:
        setattr(request, _OUTCOME, outcome)


# --- password reset ---------------------------------------------------------------------------


def password_reset_request(*, request: HttpRequest, email: str) -> None:
    """Count the request and hand the address to a job; nothing here depends on the address
    having an account."""
    hit_all(password_reset_checks(address=client_address(request), email=email))
    _hand_off("password_reset_mail", password_reset_mail, email=email, request_id=uuid.uuid4().hex)


def password_reset_mail(*, email: str, request_id: str) -> int:
    """Queue a reset letter to each account that may reset its password by `email` (Django's own
    rule: active, with a usable password). Running twice for one request queues nothing more."""
    queued = 0
    for user in PasswordResetForm().get_users(email):
        sent = email_queue(
            user=user,
            template="password_reset",
            context={
                "uid": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
            dedupe_key=f"password-reset:{request_id}:{user.pk}",
        )
        queued += sent is not None
    return queued


# --- signing up -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignUpRequest:
    """What the sign-up form asked for, carried in the signed link until the account exists."""

    email: str
    username: str
    role: str
    store_name: str = ""


def sign_up_request(*, request: HttpRequest, pending: SignUpRequest, language: str) -> None:
    """Count the sign-up and hand it to a job; the reply is the same whoever owns the address."""
    hit_all(sign_up_checks(address=client_address(request), email=pending.email))
    _hand_off("sign_up_mail", sign_up_mail, request_id=uuid.uuid4().hex, language=language, **asdict(pending))


def sign_up_mail(*, email: str, username: str, role: str, store_name: str, language: str, request_id: str) -> int:
    """A new address gets the link that finishes signing up; an address that has an account gets
    a note saying someone tried, with the ways in. Running twice queues nothing more."""
    owners = list(User._default_manager.filter(email__iexact=email))
    for owner in owners:
        email_queue(
            user=owner,
            template="sign_up_existing",
            context={},
            dedupe_key=f"sign-up-existing:{request_id}:{owner.pk}",
        )
    if owners:
        return len(owners)
    pending = SignUpRequest(email=email, username=username, role=role, store_name=store_name)
    email_queue_to_address(
        to_address=email,
        language=language,
        template="sign_up_confirm",
        context={"pending": asdict(pending), "token": sign_up_token(pending), "hours": settings.SIGNUP_LINK_HOURS},
        dedupe_key=f"sign-up:{request_id}",
    )
    return 1


def sign_up_token(pending: SignUpRequest) -> str:
    return signing.dumps(asdict(pending), salt=SIGN_UP_SALT, compress=True)


def sign_up_pending(token: str) -> SignUpRequest | None:
    """The sign-up a link carries; None when it was altered or is older than SIGNUP_LINK_HOURS."""
    try:
        data = signing.loads(token, salt=SIGN_UP_SALT, max_age=settings.SIGNUP_LINK_HOURS * 3600)
        return SignUpRequest(**data)
    except (signing.BadSignature, TypeError):
        return None


# --- jobs -------------------------------------------------------------------------------------


def _hand_off(task_name: str, job: Callable[..., int], **kwargs: Any) -> None:
    """Run `job` in a worker (accounts.tasks.<task_name>), so the request does no more for an
    address with an account than for one without."""
    from . import tasks

    try:
        getattr(tasks, task_name).delay(**kwargs)
    except (OSError, OperationalError):
        # Broker down: do the job now rather than drop the request. Only during the outage does
        # the reply take longer for an address with an account.
        logger.warning("Broker unavailable; %s runs in the request", task_name, exc_info=True)
        job(**kwargs)
