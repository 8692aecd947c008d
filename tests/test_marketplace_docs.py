"""The marketplace side of docs/deploy.md stays true: its example events are ones the feed reads, its
notices are the kinds the help centre sends, and its signing script signs what the feed accepts."""

import importlib.util
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.urls import reverse

from orders.feed import feed_event_parse

ROOT = Path(__file__).resolve().parent.parent
SECTION = (ROOT / "docs" / "deploy.md").read_text().split("## Beside a marketplace", 1)[1]
EXAMPLES = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", SECTION, flags=re.S)]


def test_every_example_event_in_the_docs_is_one_the_feed_reads():
    events = [example for example in EXAMPLES if example["type"].startswith("order.")]
    assert {event["type"] for event in events} == {
        "order.paid",
        "order.shipped",
        "order.delivered",
        "order.cancelled",
        "order.refunded",
    }
    for event in events:
        parsed = feed_event_parse(event, now=datetime(2030, 1, 1, tzinfo=UTC))
        assert parsed.event_id == event["id"]


def test_the_docs_show_every_notice_the_help_centre_sends():
    sent = set(re.findall(r'kind="([a-z_.]+)"', (ROOT / "disputes" / "outcomes.py").read_text()))
    shown = {example["type"] for example in EXAMPLES if not example["type"].startswith("order.")}
    assert sent == shown == {"dispute.opened", "dispute.refund_decided", "claim.closed", "dispute.closed"}


@pytest.mark.django_db
def test_the_signing_script_signs_what_the_feed_accepts(client, settings):
    spec = importlib.util.spec_from_file_location("sign_event", ROOT / "docs" / "marketplace" / "sign_event.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    paid = next(example for example in EXAMPLES if example["type"] == "order.paid")
    body = json.dumps(paid, ensure_ascii=False, separators=(",", ":")).encode()
    header = script.signature_header(settings.MARKETPLACE_FEED_SECRET, body)
    response = client.post(
        reverse("marketplace_order_feed"),
        data=body,
        content_type="application/json",
        headers={"X-Marketplace-Signature": header},
    )
    assert response.status_code == 200 and response.json() == {"status": "applied"}
