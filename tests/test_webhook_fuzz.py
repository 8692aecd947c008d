"""Both signed webhooks fuzzed with Hypothesis: whatever header or body arrives, signed or not,
the answer is 200, 400, 401 or 404 and never a 500. Derandomised, so a run in CI tries the same
inputs as a run here; a failure prints the smallest input that gave it."""

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone as django_timezone

from core.signatures import signed_header
from orders import payments
from orders.models import Refund, TrackingEvent

hypothesis = pytest.importorskip("hypothesis", reason="pip install -r requirements-dev.txt (hypothesis)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    # One database for every example of a test: rows the examples add only make later ones see
    # duplicates, which is part of what is tried.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ANSWERS = {200, 400, 401, 404}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
long_text = st.text(min_size=60, max_size=6000)
iso_times = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.integers(min_value=-1439, max_value=1439),
)


def post(client, url_name: str, header_name: str, body: bytes, header: str):
    return client.post(reverse(url_name), data=body, content_type="application/json", headers={header_name: header})


def signed(client, url_name: str, header_name: str, secret: str, body: bytes):
    header = signed_header(secret=secret, timestamp=int(time.time()), body=body)
    return post(client, url_name, header_name, body, header)


headers = (
    st.text(max_size=120)
    | st.builds(lambda sig: f"t={int(time.time())},v1={sig}", st.text(max_size=80))
    | st.builds(lambda t: f"t={t},v1={'0' * 64}", st.text(max_size=20))
)


@FUZZ
@given(header=headers, body=st.binary(max_size=200))
def test_no_unsigned_request_gives_500_on_either_webhook(client, header, body):
    for url_name, header_name in (
        ("payment_webhook", "X-Payment-Signature"),
        ("tracking_webhook", "X-Tracking-Signature"),
    ):
        assert post(client, url_name, header_name, body, header).status_code in {400, 401}


@pytest.fixture
def refund(order, settings):
    settings.PAYMENT_GATEWAY = "external"
    return payments.refund_request(
        order=order,
        purpose=Refund.Purpose.CANCELLATION,
        amount=Decimal("10.00"),
        currency="USD",
        now=django_timezone.now(),
    )


@FUZZ
@given(
    data=st.data(),
    raw=st.none() | st.binary(max_size=300),
)
def test_no_signed_payment_notice_gives_500(client, refund, data, raw):
    if raw is None:
        reference = st.just(refund.reference) | json_values | long_text
        data_field = st.fixed_dictionaries({}, optional={"reference": reference, "gateway_reference": json_values})
        payload = data.draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": st.text(min_size=1, max_size=12) | json_values | long_text,
                    "type": st.just("refund.completed") | json_values | long_text,
                    "data": data_field | json_values,
                },
            )
            | json_values
        )
        body = json.dumps(payload).encode()
    else:
        body = raw
    response = signed(client, "payment_webhook", "X-Payment-Signature", "test-webhook-secret", body)
    assert response.status_code in ANSWERS, response.content


@FUZZ
@given(data=st.data(), raw=st.none() | st.binary(max_size=300))
def test_no_signed_tracking_notice_gives_500(client, order, data, raw):
    if raw is None:
        now = datetime.now(UTC)
        payload = data.draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": st.text(min_size=1, max_size=12) | json_values | long_text,
                    "tracking_number": st.just(order.tracking_number) | json_values | long_text,
                    "event": st.sampled_from(TrackingEvent.Kind.values) | json_values,
                    "happened_at": st.just((now - timedelta(hours=1)).isoformat()) | iso_times | json_values,
                    "location": json_values | long_text,
                },
            )
            | json_values
        )
        body = json.dumps(payload).encode()
    else:
        body = raw
    response = signed(client, "tracking_webhook", "X-Tracking-Signature", "test-tracking-secret", body)
    assert response.status_code in ANSWERS, response.content
