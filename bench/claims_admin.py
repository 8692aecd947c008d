"""The claims queue and a claim page in admin with 10,000 claims on PostgreSQL.

Prints, for each page, the SQL queries per request and the median and p99 time over repeated
requests through Django's test client (no network), at 100 and at 10,000 claims, so the ratio
shows whether a page's cost follows what it shows or the size of the table.
Usage: python bench/claims_admin.py [--claims 10000] [--repeat 30]
"""

import argparse

from _setup import ORDER_COLUMNS, bench_parties, django_for_test_client, print_page_table, test_client_settings
from _setup import measure as measure_calls

test_client_settings("redis://127.0.0.1:6379/12")

DISPUTE_COLUMNS = (
    "order_id, buyer_id, store_id, kind, problems, held_by_customs, wrong_address, refund_type, requested_amount, "
    "currency, return_item, request_text, status, opened_at, escalation_opens_at, return_required, "
    "return_tracking_number, escalated_at, updated_at, paid_amount"
)


def add_claims(cursor, *, count: int, buyer_id: int, store_id: int, arbitrator_id: int) -> None:
    """Orders, disputes turned claims 0-70 days ago in every stage, a message and two events each."""
    cursor.execute("SELECT coalesce(max(id), 0) FROM orders_order")
    after = cursor.fetchone()[0]
    cursor.execute("SELECT coalesce(max(id), 0) FROM disputes_dispute")
    disputes_before = cursor.fetchone()[0]
    cursor.execute(
        f"""
        INSERT INTO orders_order ({ORDER_COLUMNS})
        SELECT 'C' || (g + %(after)s), %(buyer)s, %(store)s, 'delivered', (ARRAY['USD','RUB','EUR'])[1 + g %% 3],
               25.00, 'Standard', 'LP' || g, 60, now() - interval '90 days', now() - interval '88 days',
               now() + interval '1 day', true, now(), now()
        FROM generate_series(1, %(count)s) AS g
        """,
        {"buyer": buyer_id, "store": store_id, "count": count, "after": after},
    )
    cursor.execute(
        f"""
        INSERT INTO disputes_dispute ({DISPUTE_COLUMNS})
        SELECT o.id, o.buyer_id, o.store_id, 'not_as_described',
               (ARRAY['["empty_parcel"]','["wrong_attributes","damaged"]','["counterfeit"]'])[1 + o.id %% 3]::jsonb,
               false, false, 'full', 25.00, o.currency, false, 'generated request text', 'claim',
               now() - interval '85 days', now() - interval '82 days', false, '', opened, now(), 25.00
        FROM (SELECT id, buyer_id, store_id, currency, now() - (random() * interval '70 days') AS opened
              FROM orders_order WHERE id > %(after)s) AS o
        """,
        {"after": after},
    )
    cursor.execute(
        """
        INSERT INTO disputes_claim (dispute_id, stage, opened_at, assigned_to_id, assigned_at, flag_due_at,
                                    overdue_due_at, evidence_due_at, appeal_due_at, flagged_at, overdue_at, updated_at)
        SELECT d.id, s.stage, d.escalated_at,
               CASE WHEN s.stage = 'processing' THEN NULL ELSE %(arbitrator)s END,
               CASE WHEN s.stage = 'processing' THEN NULL ELSE d.escalated_at END,
               CASE WHEN s.stage IN ('processing','awaiting_parties','investigation')
                    AND d.escalated_at > now() - interval '15 days' THEN d.escalated_at + interval '15 days' END,
               CASE WHEN s.stage IN ('processing','awaiting_parties','investigation')
                    AND d.escalated_at > now() - interval '60 days' THEN d.escalated_at + interval '60 days' END,
               CASE WHEN s.stage = 'awaiting_parties' THEN now() + interval '3 days' END,
               CASE WHEN s.stage = 'decided' THEN now() + interval '5 days' END,
               CASE WHEN d.escalated_at <= now() - interval '15 days' THEN d.escalated_at + interval '15 days' END,
               CASE WHEN d.escalated_at <= now() - interval '60 days' THEN d.escalated_at + interval '60 days' END,
               now()
        FROM disputes_dispute d
        CROSS JOIN LATERAL (SELECT (ARRAY['processing','awaiting_parties','investigation','decided','final'])
                            [1 + d.id %% 5] AS stage) s
        WHERE d.status = 'claim' AND NOT EXISTS (SELECT 1 FROM disputes_claim c WHERE c.dispute_id = d.id)
        """,
        {"arbitrator": arbitrator_id},
    )
    cursor.execute(
        """
        INSERT INTO disputes_message (dispute_id, author_id, kind, text, created_at)
        SELECT id, buyer_id, 'request', request_text, opened_at FROM disputes_dispute
        WHERE NOT EXISTS (SELECT 1 FROM disputes_message m WHERE m.dispute_id = disputes_dispute.id)
        """
    )
    cursor.execute(
        """
        INSERT INTO disputes_disputeevent (dispute_id, kind, actor_id, details, created_at)
        SELECT id, 'opened', buyer_id, '{"problems": ["empty_parcel"], "amount": "25.00"}'::jsonb, opened_at
        FROM disputes_dispute WHERE id > %(before)s
        UNION ALL
        SELECT id, 'escalated', buyer_id, '{}'::jsonb, escalated_at FROM disputes_dispute WHERE id > %(before)s
        """,
        {"before": disputes_before},
    )


def measure(client, url: str, repeat: int) -> tuple[int, float, float]:
    """measure_calls of a GET of `url` that must answer 200."""

    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return measure_calls(get, repeat)


def claims_arguments(description: str | None, *, repeat: int, database: str) -> argparse.Namespace:
    """The command line of the benchmarks that grow the claims table: --claims, --repeat, --database."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--database", default=database)
    return parser.parse_args()


def main() -> None:
    args = claims_arguments(__doc__, repeat=30, database="helpcenter_bench_claims")

    django_for_test_client(args.database)
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from disputes.models import Claim

    buyer, store, (arbitrator,) = bench_parties()
    client = Client()
    client.force_login(arbitrator)

    pages = {
        "claims queue (undecided)": reverse("admin:disputes_claim_changelist"),
        "claims queue, all, search": reverse("admin:disputes_claim_changelist") + "?decision=all&q=bench-buyer",
        "claims queue, overdue filter": reverse("admin:disputes_claim_changelist") + "?waiting=overdue",
    }
    rows = []
    for size in (100, args.claims):
        with connection.cursor() as cursor:
            current = Claim.objects.count()
            add_claims(cursor, count=size - current, buyer_id=buyer.pk, store_id=store.pk, arbitrator_id=arbitrator.pk)
            cursor.execute("ANALYZE")
        first_claim = Claim.objects.order_by("pk").first()
        assert first_claim is not None
        claim_url = reverse("admin:disputes_claim_change", args=[first_claim.pk])
        for name, url in [*pages.items(), ("claim page", claim_url)]:
            queries, median, p99 = measure(client, url, args.repeat)
            rows.append((size, name, queries, median, p99))

    print_page_table(rows)


if __name__ == "__main__":
    main()
