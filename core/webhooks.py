"""Signed notices to the marketplace: an outbox, like the e-mail one (accounts/emails.py).

A service that records a fact the marketplace must learn (a dispute opened, money decided, a case
ended) calls `webhook_queue` inside its own transaction: the notice is a row committed with the
fact or not at all. After commit a worker posts it; until the receiver answers 2xx, the
"marketplace-webhooks" sweep posts it again at `next_attempt_at`, each delay twice the last, and
gives up after MAX_ATTEMPTS (staff see those in admin and send them again). Delivery is at least
once: every attempt carries the same event id, which the receiver uses to ignore a repeat.

The body is signed like the webhooks this help centre receives (core.signatures): HMAC-SHA256 over
"<timestamp>.<body>" in `X-Helpcenter-Signature: t=<unix time>,v1=<hex>`.
"""

import json
import logging
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import ActionRefused
from .models import OutgoingWebhook
from .rules import Rulebook
from .signatures import signed_header
from .sweeps import DeadlineSweep, register_deadlines

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
# The after-commit worker's turn: the sweep leaves a new notice alone this long.
HANDOFF_GRACE = timedelta(minutes=1)
# "Keeps failing" in admin: this many attempts without a 2xx.
FAILING_AFTER_ATTEMPTS = 3
SIGNATURE_HEADER = "X-Helpcenter-Signature"
EVENT_ID_HEADER = "X-Helpcenter-Event-Id"


def retry_delay(attempts: int) -> timedelta:
    """30 seconds after the first failure, then twice as long each time, at most six hours
    (twelve attempts span about a day and a half)."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def webhook_queue(*, kind: str, dedupe_key: str, data: dict[str, Any], now: datetime) -> OutgoingWebhook | None:
    """Queue a notice inside the caller's transaction; None when no marketplace is configured or
    this fact was queued before."""
    url = settings.MARKETPLACE_WEBHOOK_URL
    if not url or OutgoingWebhook.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    event_id = f"hc_{uuid.uuid4().hex}"
    webhook = OutgoingWebhook.objects.create(
        event_id=event_id,
        dedupe_key=dedupe_key,
        kind=kind,
        url=url,
        payload={"id": event_id, "type": kind, "occurred_at": now.isoformat(), "data": data},
        next_attempt_at=now + HANDOFF_GRACE,
        created_at=now,
    )
    webhook_id = webhook.pk
    transaction.on_commit(lambda: _hand_to_worker([webhook_id]))
    return webhook


def _hand_to_worker(webhook_ids: list[int]) -> None:
    from .tasks import deliver_webhooks

    try:
        deliver_webhooks.delay(webhook_ids)
    except Exception:
        logger.warning("Broker unavailable; notices %s wait for the sweep", webhook_ids, exc_info=True)


def webhook_body(webhook: OutgoingWebhook) -> bytes:
    return json.dumps(webhook.payload, ensure_ascii=False, separators=(",", ":")).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is not a delivery: a POST must reach the configured address itself.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(webhook: OutgoingWebhook) -> str:
    """Post the notice once; "" when the receiver took it (2xx), else what went wrong."""
    body = webhook_body(webhook)
    secret = settings.MARKETPLACE_WEBHOOK_SECRET
    if not secret:
        return "MARKETPLACE_WEBHOOK_SECRET is not set"
    request = urllib.request.Request(
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "buyer-protection-helpcenter",
            SIGNATURE_HEADER: signed_header(secret=secret, timestamp=int(timezone.now().timestamp()), body=body),
            EVENT_ID_HEADER: webhook.event_id,
        },
    )
    try:
        with _opener.open(request, timeout=settings.MARKETPLACE_WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (OSError, ValueError) as error:  # URLError, timeouts, refused connections, a bad URL
        return repr(error)
    return "" if 200 <= status < 300 else f"HTTP {status}"


def webhook_deliver(*, webhook_id: int, now: datetime | None = None) -> bool:
    """Post one pending notice. Safe to call twice or from two workers: one of them posts it."""
    with transaction.atomic():
        webhook = (
            OutgoingWebhook.objects.select_for_update(skip_locked=True)
            .filter(pk=webhook_id, status=OutgoingWebhook.Status.PENDING)
            .first()
        )
        if webhook is None:
            return False
        error = _post(webhook)
        now = now or timezone.now()
        webhook.attempts += 1
        if not error:
            webhook.status, webhook.delivered_at = OutgoingWebhook.Status.DELIVERED, now
        elif webhook.attempts >= MAX_ATTEMPTS:
            webhook.status = OutgoingWebhook.Status.FAILED
        else:
            webhook.next_attempt_at = now + retry_delay(webhook.attempts)
        webhook.last_error = error[:500] if error else webhook.last_error
        webhook.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at", "last_error"])
        if error:
            logger.warning(
                "Notice %s to the marketplace failed (attempt %d): %s", webhook.event_id, webhook.attempts, error
            )
        return not error


def failing(webhooks: QuerySet[OutgoingWebhook]) -> QuerySet[OutgoingWebhook]:
    """The notices that keep failing: given up, or still trying after several failures."""
    return webhooks.filter(
        Q(status=OutgoingWebhook.Status.FAILED)
        | Q(status=OutgoingWebhook.Status.PENDING, attempts__gte=FAILING_AFTER_ATTEMPTS)
    )


@transaction.atomic(durable=True)
def webhook_resend(*, webhook_id: int, staff: Any, now: datetime | None = None) -> bool:
    """Staff's "send again": a notice not yet delivered gets a fresh round of attempts, to the
    address configured now (the marketplace may have moved it). False when it was delivered."""
    if not staff.has_perm("core.resend_outgoingwebhook"):
        raise ActionRefused(_("Отправлять уведомления площадке снова может только сотрудник с таким правом."))
    now = now or timezone.now()
    webhook = OutgoingWebhook.objects.select_for_update(of=("self",)).filter(pk=webhook_id).first()
    if webhook is None or webhook.status == OutgoingWebhook.Status.DELIVERED:
        return False
    webhook.status, webhook.attempts = OutgoingWebhook.Status.PENDING, 0
    webhook.next_attempt_at = now + HANDOFF_GRACE
    webhook.url = settings.MARKETPLACE_WEBHOOK_URL or webhook.url
    webhook.save(update_fields=["status", "attempts", "next_attempt_at", "url"])
    transaction.on_commit(lambda: _hand_to_worker([webhook_id]))
    return True


# Notices have one deadline, their next attempt (the partial index webhook_pending_due_idx).
notices = Rulebook[OutgoingWebhook, None]("outgoing webhook", no_facts=None).deadline(
    "deliver", "next_attempt_at", lambda: OutgoingWebhook.objects.filter(status=OutgoingWebhook.Status.PENDING)
)
register_deadlines(
    notices,
    DeadlineSweep(
        "marketplace-webhooks",
        "deliver",
        webhook_deliver,
        "webhook_id",
        "уведомления площадке, которые ещё не дошли",
        limit=200,
    ),
)
