"""The arbitration policy's pages with 10,000 claims on PostgreSQL: the claim page (the
recommendation, its gaps and how similar claims went, beside the decision form) and the
consistency report (per arbitrator and per problem kind), as a page and as CSV.

Prints the SQL queries per request and the median and p99 time over repeated requests through
Django's test client, at 100 and at 10,000 claims (about 40% of them decided, a tenth of those
appealed), so the ratio shows whether a page's cost follows what it shows or the table's size.
Usage: python bench/policy_report.py [--claims 10000] [--repeat 20]
"""

from _setup import bench_parties, django_for_test_client, print_page_table, test_client_settings
from claims_admin import add_claims, claims_arguments, measure

test_client_settings("redis://127.0.0.1:6379/6")


def add_decisions(cursor, *, arbitrator_ids: list[int]) -> None:
    """A first decision for every decided or final claim without one (by the arbitrators in turn,
    half with a recommendation, three quarters of those followed), and an appeal decision for a
    tenth of the final ones, every other one overturning."""
    cursor.execute(
        """
        INSERT INTO disputes_decision (claim_id, kind, winner, amount, currency, return_required, reason,
                                       decided_by_id, decided_at, recommended_rule, followed_recommendation,
                                       deviation_reason)
        SELECT c.id, 'first', w.winner,
               CASE w.winner WHEN 'buyer' THEN 25.00 WHEN 'split' THEN 12.50 ELSE 0 END,
               d.currency, false, 'bench decision',
               (%(arbitrators)s::int[])[1 + c.id %% cardinality(%(arbitrators)s::int[])],
               c.opened_at + (c.id %% 20) * interval '1 day',
               CASE WHEN c.id %% 2 = 0 THEN 'damaged_with_video' ELSE '' END,
               CASE WHEN c.id %% 2 = 0 THEN c.id %% 8 <> 0 END,
               CASE WHEN c.id %% 8 = 0 THEN 'bench deviation' ELSE '' END
        FROM disputes_claim c JOIN disputes_dispute d ON d.id = c.dispute_id
        CROSS JOIN LATERAL (SELECT (ARRAY['buyer','seller','split'])[1 + c.id %% 3] AS winner) w
        WHERE c.stage IN ('decided', 'final')
          AND NOT EXISTS (SELECT 1 FROM disputes_decision x WHERE x.claim_id = c.id AND x.kind = 'first')
        """,
        {"arbitrators": arbitrator_ids},
    )
    cursor.execute(
        """
        INSERT INTO disputes_decision (claim_id, kind, winner, amount, currency, return_required, reason,
                                       decided_by_id, decided_at, recommended_rule, followed_recommendation,
                                       deviation_reason)
        SELECT f.claim_id, 'appeal', CASE WHEN f.claim_id %% %(overturned)s = 0 THEN 'buyer' ELSE f.winner END,
               CASE WHEN f.claim_id %% %(overturned)s = 0 THEN 25.00 ELSE f.amount END,
               f.currency, false, 'bench appeal',
               f.decided_by_id, f.decided_at + interval '9 days', '', NULL, ''
        FROM disputes_decision f JOIN disputes_claim c ON c.id = f.claim_id
        WHERE f.kind = 'first' AND c.stage = 'final' AND f.claim_id %% %(appealed)s = 0
          AND NOT EXISTS (SELECT 1 FROM disputes_decision x WHERE x.claim_id = f.claim_id AND x.kind = 'appeal')
        """,
        {"appealed": 10, "overturned": 20},
    )


def main() -> None:
    args = claims_arguments(__doc__, repeat=20, database="helpcenter_bench_policy")

    django_for_test_client(args.database)
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from disputes.models import Claim

    buyer, store, arbitrators = bench_parties(arbitrators=5)
    client = Client()
    client.force_login(arbitrators[0])

    report = reverse("admin:disputes_policyruleswitch_report")
    rows = []
    for size in (100, args.claims):
        with connection.cursor() as cursor:
            current = Claim.objects.count()
            add_claims(
                cursor, count=size - current, buyer_id=buyer.pk, store_id=store.pk, arbitrator_id=arbitrators[0].pk
            )
            add_decisions(cursor, arbitrator_ids=[arbitrator.pk for arbitrator in arbitrators])
            cursor.execute("ANALYZE")
        undecided = Claim.objects.filter(stage="investigation").order_by("pk").first()
        assert undecided is not None
        pages = {
            "claim page (with the policy)": reverse("admin:disputes_claim_change", args=[undecided.pk]),
            "consistency report": report,
            "consistency report, CSV": report + "?format=csv",
            "policy rules": reverse("admin:disputes_policyruleswitch_changelist"),
        }
        for name, url in pages.items():
            queries, median, p99 = measure(client, url, args.repeat)
            rows.append((size, name, queries, median, p99))

    print_page_table(rows)


if __name__ == "__main__":
    main()
