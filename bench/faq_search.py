"""FAQ search at scale: 100,000 generated articles on PostgreSQL.

Prints the median, p95 and p99 latency of `faq.search.search_articles` (the code the search page
runs) for the buyers' query table and for very common words, whether the shipped article still
comes first among the generated ones, and the query plan of the candidate scan (GIN index or
not). Usage: python bench/faq_search.py [--articles 100000] [--repeat 5] [--reuse]

--reuse keeps the database of the previous run when it holds the generated articles (only the
search code changed since); the default builds it afresh.
"""

import argparse
import random
import statistics
import sys
import time

from _setup import copy_generated_articles, django_on_bench_database, percentile, shipped_vocabulary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", default="helpcenter_bench_faq")
    parser.add_argument("--reuse", action="store_true", help="keep the generated articles of the last run")
    args = parser.parse_args()

    django_on_bench_database(args.database, fresh=not args.reuse)
    from django.db import connection

    from faq.models import Article, Category
    from faq.search import CANDIDATE_CAP, search_articles
    from tests.faq_queries import QUERIES

    generated = Article.objects.filter(category__slug="generated").count()
    started, built = time.perf_counter(), not generated
    if built:
        vocabulary = shipped_vocabulary()
        titles_vocabulary = sorted(set(vocabulary))
        category_id = Category.objects.create(slug="generated", title_ru="Сгенерированные", position=99).pk
        random.seed(42)
        with connection.cursor() as cursor:
            copy_generated_articles(
                cursor,
                count=args.articles,
                category_ids=[category_id],
                title_words=titles_vocabulary,
                body_words=vocabulary,
                positions=1000,
            )
            cursor.execute("VACUUM ANALYZE faq_article")
            cursor.execute("ANALYZE faq_searchword")
        generated = args.articles
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('faq_article')) FROM faq_article")
        total, size = cursor.fetchone()
    how = f"in {time.perf_counter() - started:.1f} s" if built else "kept from the last run"
    print(f"articles: {total} ({generated} generated) {how}, table {size}")

    common = ["посылка", "товар продавец", "спор", "деньги", "заказ защита"]
    for label, queries in (("buyer queries", [q for q, _ in QUERIES]), ("very common words", common)):
        timings = []
        for _ in range(args.repeat):
            for query in queries:
                start = time.perf_counter()
                search_articles(query)
                timings.append((time.perf_counter() - start) * 1000)
        print(
            f"{label:18} n={len(timings):4}  median {statistics.median(timings):6.1f} ms"
            f"  p95 {percentile(timings, 0.95):6.1f} ms  p99 {percentile(timings, 0.99):6.1f} ms"
            f"  max {max(timings):6.1f} ms"
        )

    first = top3 = 0
    for query, slug in QUERIES:
        found = [hit.article.slug for hit in search_articles(query).hits]
        first += bool(found) and found[0] == slug
        top3 += slug in found[:3]
    print(
        f"shipped article among {total} (generated text uses the shipped articles' words): "
        f"first for {first}, in the top 3 for {top3} of {len(QUERIES)} queries"
    )
    print(f"ranked candidates capped at {CANDIDATE_CAP} per query")

    # A rare word (only in shipped keywords) and a word in about half the generated articles.
    for label, tsquery in (("rare word", "(забанили | бан)"), ("common word", "(посылка | заказ | товар)")):
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM faq_article "
                "WHERE status = 'published' AND search_ru @@ to_tsquery('russian', %s) LIMIT %s",
                [tsquery, CANDIDATE_CAP],
            )
            plan = [row[0] for row in cursor.fetchall()]
        uses_index = any("faq_article_search_ru_gin" in line for line in plan)
        print(f"plan for a {label} {tsquery}: GIN index {'used' if uses_index else 'not used'}")
        for line in plan:
            print("   ", line)
    sys.exit(0)


if __name__ == "__main__":
    main()
