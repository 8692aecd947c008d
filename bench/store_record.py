"""A store's dispute record with 100,000 orders and 20,000 disputes on PostgreSQL.

Builds 200 stores, 1,000 buyers and 100,000 orders paid over the last 400 days; one big store
holds a fifth of them. 20,000 disputes (a fifth in the big store), answered after 1-120 hours or
left unanswered, a claim with a decision for every tenth, a refund for every third, and upheld
and rejected reports. Prints the SQL queries and the median and p99 time of: the record
computed alone, the seller's "Мой рейтинг споров" page, the admin record page and its CSV, for
the big store and for a small one, through Django's test client with production settings.
Usage: python bench/store_record.py [--orders 100000] [--disputes 20000] [--repeat 30]
"""

import argparse
import os
import time

from _setup import django_for_test_client, measure, test_client_settings

test_client_settings("redis://127.0.0.1:6379/12")


def build(cursor, *, orders: int, disputes: int, arbitrator_id: int) -> None:
    from accounts.models import Store, User

    users = User.objects.bulk_create(
        User(
            username=f"bench-user-{number}",
            email=f"user{number}@bench.local",
            password="!",
            role=User.Role.SELLER if number <= 200 else User.Role.BUYER,
        )
        for number in range(1, 1201)
    )
    Store.objects.bulk_create(
        Store(owner=user, name=f"Bench store {user.pk}", return_address="Address") for user in users[:200]
    )
    # A fifth of the orders in the first store, the rest spread over the others.
    cursor.execute(
        """
        WITH stores AS (SELECT array_agg(id ORDER BY id) AS ids FROM accounts_store),
             buyers AS (SELECT array_agg(id ORDER BY id) AS ids FROM accounts_user WHERE role = 'buyer')
        INSERT INTO orders_order (number, buyer_id, store_id, status, currency, total_amount, shipping_method,
                                  tracking_number, protection_days, paid_at, has_dispute, created_at, updated_at)
        SELECT 'B' || g, buyers.ids[1 + g %% array_length(buyers.ids, 1)],
               CASE WHEN g %% 5 = 0 THEN stores.ids[1] ELSE stores.ids[2 + g %% (array_length(stores.ids, 1) - 1)] END,
               'delivered', (ARRAY['USD','RUB','EUR'])[1 + g %% 3], 10 + g %% 90, 'Standard', 'LP' || g, 60,
               now() - (g %% 400) * interval '1 day' - (g %% 24) * interval '1 hour', false, now(), now()
        FROM generate_series(1, %(orders)s) AS g, stores, buyers
        """,
        {"orders": orders},
    )
    step = max(orders // disputes, 1)
    cursor.execute(
        """
        INSERT INTO disputes_dispute (order_id, buyer_id, store_id, kind, problems, held_by_customs, wrong_address,
                                      refund_type, requested_amount, currency, return_item, request_text, status,
                                      opened_at, escalation_opens_at, return_required, return_tracking_number,
                                      seller_answered_at, seller_silent, updated_at, paid_amount)
        SELECT o.id, o.buyer_id, o.store_id, 'not_as_described', '["damaged"]'::jsonb, false, false, 'full',
               o.total_amount, o.currency, false, 'generated', 'refunded', o.paid_at + interval '10 days',
               o.paid_at + interval '13 days', false, '',
               CASE WHEN o.id %% 7 = 0 THEN NULL
                    ELSE o.paid_at + interval '10 days' + (o.id %% 120) * interval '1 hour' END,
               o.id %% 7 = 0, now(), o.total_amount
        FROM orders_order o WHERE o.number LIKE 'B%%' AND (o.id / 5) %% %(step)s = 0
        """,
        {"step": step},
    )
    cursor.execute("UPDATE orders_order SET has_dispute = true WHERE id IN (SELECT order_id FROM disputes_dispute)")
    cursor.execute(
        """
        INSERT INTO orders_refund (order_id, purpose, amount, currency, reference, status, requested_at,
                                   completed_at, confirmed_by, gateway_reference)
        SELECT order_id, 'dispute', requested_amount, currency, 'RF-' || id, 'completed', opened_at + interval '6 days',
               opened_at + interval '6 days', 'gateway', ''
        FROM disputes_dispute WHERE id %% 3 = 0
        """,
        {},
    )
    cursor.execute(
        """
        INSERT INTO disputes_claim (dispute_id, stage, opened_at, updated_at)
        SELECT id, 'final', opened_at + interval '15 days', now() FROM disputes_dispute WHERE id %% 10 = 0
        """,
        {},
    )
    cursor.execute(
        """
        INSERT INTO disputes_decision (claim_id, kind, winner, amount, currency, return_required, reason,
                                       decided_by_id, decided_at)
        SELECT c.id, 'first', (ARRAY['buyer','seller','split'])[1 + c.id %% 3], 5, 'USD', false, 'generated',
               %(arbitrator)s, c.opened_at + interval '20 days'
        FROM disputes_claim c
        """,
        {"arbitrator": arbitrator_id},
    )
    cursor.execute(
        """
        INSERT INTO reports_report (reporter_id, store_id, reported_user_id, item_id, listing_url, listing_title,
                                    report_type, reason, description, status, created_at, answer, outcome,
                                    decision_reason, sanction, closed_at)
        SELECT o.buyer_id, o.store_id, s.owner_id, '', '', '', 'counterfeit', 'counterfeit_brand', 'generated',
               'closed', o.paid_at + interval '3 days', '', CASE WHEN o.id %% 2 = 0 THEN 'upheld' ELSE 'not_upheld' END,
               '', '', o.paid_at + interval '8 days'
        FROM orders_order o JOIN accounts_store s ON s.id = o.store_id WHERE o.id %% 200 = 0
        """,
        {},
    )
    cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--disputes", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database", default="helpcenter_bench_store_record")
    args = parser.parse_args()

    django_for_test_client(args.database)
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from accounts.models import Store, User
    from disputes.models import Dispute
    from disputes.store_record import store_record
    from orders.models import Order

    arbitrator = User.objects.create(username="bench-arbitrator", is_staff=True)
    arbitrator.groups.add(Group.objects.get(name="arbitrators"))
    with connection.cursor() as cursor:
        build(cursor, orders=args.orders, disputes=args.disputes, arbitrator_id=arbitrator.pk)
    big = Store.objects.order_by("pk").first()
    small = Store.objects.order_by("-pk").first()
    assert big is not None and small is not None
    print(
        f"{Order.objects.count():,} orders, {Dispute.objects.count():,} disputes; the big store has "
        f"{Order.objects.filter(store=big).count():,} orders and {Dispute.objects.filter(store=big).count():,} disputes"
    )
    if os.environ.get("BENCH_PROFILE"):
        profile_queries(big)
    staff = Client()
    staff.force_login(arbitrator)
    rows = []
    for label, store in (("big store", big), ("small store", small)):
        seller = Client()
        seller.force_login(store.owner)
        record_url = reverse("admin:disputes_store_record", args=[store.pk])

        def page(client, url):
            def get():
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            return get

        for name, function in (
            ("record computed alone", lambda store=store: store_record(store=store)),
            ("seller: Мой рейтинг споров", page(seller, reverse("disputes:store_record"))),
            ("admin: store record page", page(staff, record_url)),
            ("admin: store record CSV", page(staff, record_url + "?format=csv")),
        ):
            queries, median, p99 = measure(function, args.repeat)
            rows.append((label, name, queries, median, p99))

    print(f"{'store':12} {'what':30} {'queries':>7} {'median ms':>10} {'p99 ms':>8}")
    for label, name, queries, median, p99 in rows:
        print(f"{label:12} {name:30} {queries:>7} {median:>10.1f} {p99:>8.1f}")


def profile_queries(store) -> None:
    """Each query of the record with its time, to see which one costs."""
    from django.db import connection

    from disputes.store_record import store_record

    timings: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append(((time.perf_counter() - started) * 1000, sql[:110]))

    with connection.execute_wrapper(timed):
        store_record(store=store)
    for elapsed, sql in timings:
        print(f"  {elapsed:7.1f} ms  {sql}")


if __name__ == "__main__":
    main()
