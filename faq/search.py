"""Search in the knowledge base, for the way buyers actually type.

PostgreSQL: a stored, GIN-indexed tsvector per language (generated column kept in the row,
weights A for title and keywords, B summary, C body) queried with the `russian` configuration; query words are
widened with synonyms buyers use, a misspelt word is also tried as its nearest dictionary word
(pg_trgm), all words must match first and any word after that, and only a bounded set of
candidates is ranked (ts_rank cost grows with every row it ranks). SQLite: the same steps with
prefix stems in Python over the published articles, which is enough for development.
"""

import difflib
import html
import re
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Case, When
from django.db.models.expressions import RawSQL

from .models import Article, SearchWord
from .text import TOKEN, fold, other_layout, tokens

MAX_QUERY_WORDS = 8
# A results page lists at most this many articles, the best first. A word found in every article
# ("заказ", "товар", "продавец") tells little about which one is meant, and a list of all 17 made
# the reader scan them all; five fill one phone screen with their snippets, and the search log
# (faq/gaps.py) shows readers open the first result or ask again with more words. The page says how
# many more matched and suggests adding words.
RESULTS_SHOWN = 5
CANDIDATE_CAP = 300  # rows ranked at most, so a word found in every article stays fast
SHORTLIST = 100  # of those, the best by ts_rank are ranked again more closely
PROBE_ROWS = 1000  # words that fill the cap within this many articles are "common"
INDEX_GROUP_SHARE = 0.5  # a word group in this share of articles is tested on rows, not asked of the index
WALK_ROWS = 4000  # words that would fill it within this many are walked to in id order too
TYPO_SIMILARITY = 0.45
# Read again only if someone asks (a results page shows the title, the category and the snippet).
UNSHOWN_FIELDS = (
    "body_ru",
    "body_en",
    "body_html_ru",
    "body_html_en",
    "body_text_ru",
    "body_text_en",
    "toc_ru",
    "toc_en",
)
SNIPPET_OPEN, SNIPPET_CLOSE = "\u2063[[", "]]\u2063"

# Words that mean the same to a buyer. Any member of a group finds the others.
SYNONYM_GROUPS: list[set[str]] = [
    {"вернуть", "возврат", "возвратить", "вернут", "возмещение", "компенсация", "рефанд", "refund", "назад"},
    {"деньги", "денег", "средства", "бабки", "оплата", "платеж"},
    {"спор", "диспут", "претензия", "dispute", "жалоба"},
    {"претензия", "claim", "арбитраж", "эскалация", "эскалировать", "обострить"},
    {"посылка", "посылку", "заказ", "пакет", "отправление", "товар", "бандероль"},
    {"пришла", "пришел", "пришло", "получил", "получила", "доставлен", "доставили", "дошла", "дошел"},
    {"потерялась", "потеряли", "пропала", "неполучение", "пропал"},
    {"трек", "трекинг", "отслеживание", "номер", "track"},
    {"продлить", "продление", "продлевать", "увеличить", "extend"},
    {"защита", "защиты", "гарантия", "protection"},
    {"срок", "время", "дни", "дней"},
    {"отменить", "отмена", "закрыть", "отозвать"},
    {"апелляция", "обжаловать", "оспорить", "пересмотр", "несогласен", "appeal"},
    {"пожаловаться", "жалоба", "репорт", "report", "нарушение"},
    {"подделка", "фейк", "реплика", "копия", "контрафакт", "паленый", "поддельный"},
    {"сломан", "сломанный", "брак", "бракованный", "неисправный", "работает"},
    {"повреждена", "повреждение", "разбит", "разбитый", "помятый", "мятая", "вскрыта", "порвана"},
    {"пустая", "пустой", "пустую"},
    {"таможня", "таможне", "таможенный", "растаможка", "пошлина"},
    {"заблокировали", "блокировка", "заблокирован", "бан", "забанили"},
    {"кабинет", "аккаунт", "профиль", "личный"},
    {"зайти", "войти", "вход", "залогиниться"},
    {"подтвердить", "подтверждение", "confirm"},
    {"размер", "цвет", "материал", "описание", "несоответствие", "соответствует", "другой"},
    {"частичный", "частично", "часть", "половину"},
    {"доллары", "долларах", "валюта", "рубли", "рублях", "курс", "конвертация"},
    {"продавец", "продавца", "продаван", "магазин", "селлер"},
    {"алиэкспресс", "али", "алик", "aliexpress"},
]
_SYNONYMS: dict[str, set[str]] = {}
for _group in SYNONYM_GROUPS:
    for _word in _group:
        _SYNONYMS.setdefault(_word, set()).update(_group)

# Words that carry no topic in a buyer's question ("что делать", "как мне"): dropped from the
# query unless nothing else is left.
FILLER_WORDS = {
    "что", "делать", "как", "где", "когда", "почему", "зачем", "можно", "нужно", "надо", "мне", "мой", "моя",
    "мое", "мои", "ли", "если", "помогите", "подскажите", "пожалуйста", "быть", "той", "тот", "та", "те",
    "это", "этот", "эта", "а", "и", "или", "у", "с", "со", "в", "во", "на", "по", "за", "для",
}  # fmt: skip


@dataclass
class SearchHit:
    article: Article
    snippet: str  # safe HTML: escaped text with <mark> around matches


@dataclass
class SearchResults:
    query: str
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    corrections: dict[str, str] = field(default_factory=dict)  # typed word -> word searched instead
    # The query as searched when some of it was typed on the other keyboard layout, else "".
    relayouted: str = ""

    @property
    def searched(self) -> str:
        return self.relayouted or self.query


def query_words(query: str) -> list[str]:
    words = [word for word in tokens(query) if len(word) > 1]
    meaningful = [word for word in words if word not in FILLER_WORDS]
    return (meaningful or words)[:MAX_QUERY_WORDS]


def _alternatives(word: str, correction: str | None) -> set[str]:
    words = {word, *_SYNONYMS.get(word, ())}
    if correction:
        words |= {correction, *_SYNONYMS.get(correction, ())}
    return words


def search_articles(query: str, *, language: str = "ru", limit: int = RESULTS_SHOWN) -> SearchResults:
    results = SearchResults(query=query)
    chunks = query.split()
    switched = [other_layout(chunk) for chunk in chunks]
    # One dictionary read serves both the layout check and the typo check below.
    known = _known_words([*tokens(query), *(word for chunk in switched if chunk for word in tokens(chunk))])
    relayouted = _relayouted(chunks, switched, known)
    if relayouted != " ".join(chunks):
        results.relayouted = relayouted
    words = query_words(results.searched)
    if not words:
        return results
    results.corrections = _corrections(words, known)
    groups = [_alternatives(word, results.corrections.get(word)) for word in words]
    if connection.vendor == "postgresql":
        return _search_postgres(results, groups, language=language, limit=limit)
    return _search_python(results, groups, language=language, limit=limit)


# --- wrong keyboard layout and typo correction ----------------------------------------------


def _known_words(words: list[str]) -> set[str]:
    """Which of `words` the articles use (the search dictionary, both languages)."""
    asked = {word for word in words if len(word) > 1}
    if not asked:
        return set()
    return set(SearchWord.objects.filter(word__in=asked).values_list("word", flat=True))


def _relayouted(chunks: list[str], switched: list[str | None], known: set[str]) -> str:
    """The query with the words typed on the wrong layout turned back ("ghjlkbnm pfobne" ->
    "продлить защиту", "куагтв" -> "refund"). A word is turned when the articles do not use it as
    typed and do use every word it gives on the other layout; once one word shows the wrong layout
    was on, the other unknown words are turned too (their typos are corrected after)."""

    def unknown(text: str) -> bool:
        return any(word not in known and word not in _SYNONYMS for word in tokens(text))

    def recognised(text: str | None) -> bool:
        words = tokens(text or "")
        return bool(words) and all(word in known or word in _SYNONYMS for word in words)

    turn = [unknown(chunk) and recognised(other) for chunk, other in zip(chunks, switched, strict=True)]
    if any(turn):
        turn = [
            bool(other) and (wanted or unknown(chunk))
            for chunk, other, wanted in zip(chunks, switched, turn, strict=True)
        ]
    return " ".join(
        other if wanted and other else chunk for chunk, other, wanted in zip(chunks, switched, turn, strict=True)
    )


def _corrections(words: list[str], known: set[str]) -> dict[str, str]:
    """For each word the articles never use, the closest word they do use (if close enough)."""
    candidates = [word for word in words if len(word) >= 4 and word not in _SYNONYMS]
    if not candidates:
        return {}
    unknown = [word for word in candidates if word not in known]
    corrections = {}
    for word in unknown:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT word FROM faq_searchword WHERE word %% %s AND similarity(word, %s) >= %s "
                    "ORDER BY similarity(word, %s) DESC, word LIMIT 1",
                    [word, word, TYPO_SIMILARITY, word],
                )
                row = cursor.fetchone()
            best = row[0] if row else None
        else:
            nearby = SearchWord.objects.filter(word__startswith=word[:1]).values_list("word", flat=True)
            matches = difflib.get_close_matches(word, list(nearby), n=1, cutoff=0.75)
            best = matches[0] if matches else None
        if best and best != word:
            corrections[word] = best
    return corrections


# --- PostgreSQL -----------------------------------------------------------------------------


def _tsquery_text(groups: list[set[str]], operator: str) -> str:
    parts = []
    for group in groups:
        alternatives = sorted({re.sub(r"[^\w]", "", word) for word in group} - {""})
        parts.append("(" + " | ".join(alternatives) + ")")
    return f" {operator} ".join(parts)


def _index_groups(cursor, groups: list[set[str]], *, config: str, column: str) -> list[set[str]]:
    """The word groups of an all-words query worth asking the GIN index for.

    A group found in most articles (any of "пришел | получил | доставлен ...") makes the index
    merge the longest lists it holds and narrows the result little: asked for the other groups
    only, the index answers several times faster, and the few more rows it returns are tested
    against the whole query anyway. The share of articles holding a group is estimated from the
    lexeme frequencies ANALYZE keeps (pg_stats.most_common_elems; a lexeme not listed there is
    rare), assuming the words independent. Without statistics every group is kept.
    """
    if len(groups) < 2:
        return groups
    cursor.execute(
        """
        WITH frequent AS (
            SELECT u.lexeme, u.share
            FROM pg_stats, unnest(most_common_elems::text::text[], most_common_elem_freqs) AS u(lexeme, share)
            WHERE schemaname = current_schema() AND tablename = 'faq_article' AND attname = %(column)s
        )
        SELECT g.number, 1 - exp(sum(ln(1 - least(f.share, 0.999))))
        FROM unnest(%(groups)s::text[]) WITH ORDINALITY AS g(words, number)
        CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(%(config)s::regconfig, g.words))) AS l(lexeme)
        JOIN frequent f ON f.lexeme = l.lexeme
        GROUP BY g.number
        """,
        {"column": column, "config": config, "groups": [" ".join(sorted(group)) for group in groups]},
    )
    shares = {number - 1: share for number, share in cursor.fetchall()}
    ordered = sorted(range(len(groups)), key=lambda index: shares.get(index, 0.0))
    keep = [index for index in ordered if shares.get(index, 0.0) < INDEX_GROUP_SHARE] or ordered[:1]
    return [groups[index] for index in sorted(keep)]


def _search_postgres(results: SearchResults, groups, *, language: str, limit: int) -> SearchResults:
    config, column, title, body, keywords = (
        ("english", "search_en", "title_en", "body_text_en", "keywords_en")
        if language == "en"
        else ("russian", "search_ru", "title_ru", "body_text_ru", "keywords_ru")
    )
    # Only a bounded set of candidates is ranked, so a word found in most articles costs no more
    # than CANDIDATE_CAP rows, and the candidates are the oldest matching articles (the knowledge
    # base's own before later additions), the same ones on every search. They are found in one of
    # three ways, each bounded: the first PROBE_ROWS articles are tried first, and when the words
    # are common enough to fill the cap there, that is the set; when the probe shows they would
    # fill it within WALK_ROWS articles, the walk in id order goes that far (it stops at the cap);
    # otherwise the words are rare enough for the GIN index to list every match cheaply. (Left to
    # itself, the planner built a GIN bitmap of every match for a common word, or walked the whole
    # table in id order for a rare pair of words; docs/performance.md has what each cost.) Ranking
    # is in two steps: ts_rank with the title and keywords weighted up orders the candidates; the
    # closer ts_rank_cd (words near each other), title likeness and the keyword phrase order only
    # the best SHORTLIST of them, because ts_rank_cd over long vectors is costly.
    walk_source = f"""(
        SELECT id, {column}, {title}, {keywords} FROM faq_article
        WHERE status = 'published' ORDER BY id LIMIT %(window)s
    )"""
    # The index is asked only for the word groups that narrow the search (see _index_groups); the
    # whole query is tested on the rows it returns (OFFSET 0 keeps that test out of the index scan).
    index_source = f"""(
        SELECT id, {column}, {title}, {keywords} FROM faq_article
        WHERE status = 'published' AND {column} @@ to_tsquery(%(config)s::regconfig, %(index_tsquery)s) OFFSET 0
    )"""
    # One row (NULL, total) when fewer than %(need)s candidates were found: the walk that found
    # them leaves the ranking to the index, so it ranks nothing.
    template = f"""
        WITH candidates AS MATERIALIZED (
            SELECT a.id, a.{column} AS vector, a.{title} AS title, a.{keywords} AS keywords
            FROM {{source}} a
            WHERE a.{column} @@ to_tsquery(%(config)s::regconfig, %(tsquery)s)
            LIMIT %(cap)s
        ),
        found AS (SELECT count(*) AS total FROM candidates),
        shortlist AS (
            SELECT c.id, c.vector, c.title, c.keywords FROM candidates c
            WHERE (SELECT total FROM found) >= %(need)s
            ORDER BY ts_rank(ARRAY[0.01, 0.05, 0.4, 1.0]::float4[], c.vector,
                             to_tsquery(%(config)s::regconfig, %(tsquery)s))
                     + CASE WHEN position(%(phrase)s IN lower(replace(c.keywords, 'ё', 'е'))) > 0 THEN 1 ELSE 0 END
                     DESC, c.id
            LIMIT %(shortlist)s
        ),
        ranked AS (
            SELECT s.id,
                   ts_rank_cd(s.vector, to_tsquery(%(config)s::regconfig, %(tsquery)s))
                   + 0.3 * similarity(s.title, %(raw)s)
                   + CASE WHEN position(%(phrase)s IN lower(replace(s.keywords, 'ё', 'е'))) > 0 THEN 1 ELSE 0 END
                     AS rank
            FROM shortlist s
            ORDER BY rank DESC, s.id
            LIMIT %(limit)s
        )
        SELECT r.id, f.total FROM found f LEFT JOIN ranked r ON true ORDER BY r.rank DESC, r.id
    """
    walk_sql = template.format(source=walk_source)
    index_sql = template.format(source=index_source)
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for operator in ("&", "|"):
            params: dict[str, str | int] = {
                "config": config,
                "tsquery": _tsquery_text(groups, operator),
                "cap": CANDIDATE_CAP,
                "need": CANDIDATE_CAP,
                "window": PROBE_ROWS,
                "shortlist": SHORTLIST,
                "raw": results.searched,
                "phrase": " ".join(tokens(results.searched)),
                "limit": limit,
            }
            cursor.execute(walk_sql, params)
            rows = cursor.fetchall()
            found = rows[0][1]
            # How far the walk must go to fill the cap, judging by how often the first articles match.
            needed = PROBE_ROWS * CANDIDATE_CAP / found if found else float("inf")
            if found < CANDIDATE_CAP and needed <= WALK_ROWS:
                cursor.execute(walk_sql, {**params, "window": WALK_ROWS})
                rows = cursor.fetchall()
                found = rows[0][1]
            if found < CANDIDATE_CAP:
                # Rare enough: every match from the index (a bitmap), not a walk of the table.
                index_groups = (
                    _index_groups(cursor, groups, config=config, column=column) if operator == "&" else groups
                )
                with transaction.atomic():
                    cursor.execute("SET LOCAL enable_seqscan = off")
                    cursor.execute("SET LOCAL enable_indexscan = off")
                    cursor.execute(
                        index_sql, {**params, "need": 0, "index_tsquery": _tsquery_text(index_groups, operator)}
                    )
                    rows = cursor.fetchall()
            rows = [row for row in rows if row[0] is not None]
            if rows or len(groups) == 1:
                break
    if not rows:
        return results
    ids = [row[0] for row in rows]
    # The snippet comes with the article (one query), which is read without the texts the results
    # page never shows.
    headline = RawSQL(
        f"ts_headline(%s::regconfig, faq_article.{body}, to_tsquery(%s::regconfig, %s), %s)",
        [
            config,
            config,
            _tsquery_text(groups, "|"),
            f"StartSel={SNIPPET_OPEN}, StopSel={SNIPPET_CLOSE}, MaxWords=30, MinWords=12, "
            'MaxFragments=2, FragmentDelimiter=" … "',
        ],
    )
    articles = (
        Article.objects.select_related("category").defer(*UNSHOWN_FIELDS).annotate(headline=headline).in_bulk(ids)
    )
    results.total = rows[0][1]
    results.hits = [SearchHit(articles[pk], _marked_snippet(articles[pk].headline)) for pk in ids]
    return results


def _marked_snippet(headline: str) -> str:
    escaped = html.escape(headline.replace("\n", " "))
    return escaped.replace(html.escape(SNIPPET_OPEN), "<mark>").replace(html.escape(SNIPPET_CLOSE), "</mark>")


# --- SQLite fallback ------------------------------------------------------------------------


def _stem(word: str) -> str:
    return word[: max(4, len(word) - 2)] if len(word) > 4 else word


def _search_python(results: SearchResults, groups, *, language: str, limit: int) -> SearchResults:
    articles = list(
        Article.objects.filter(status=Article.Status.PUBLISHED).select_related("category").order_by("position", "pk")
    )
    # Two-letter words ("не", "на") would match nearly everything as prefixes.
    stem_groups = [{_stem(word) for word in group if len(word) > 2} or set(group) for group in groups]
    phrase = " ".join(tokens(results.searched))

    def fields(article):
        if language == "en" and article.body_en:
            return article.title_en + " " + article.keywords_en, article.summary_en, article.body_text_en
        return article.title_ru + " " + article.keywords_ru, article.summary_ru, article.body_text_ru

    scored = []
    for require_all in (True, False):
        for article in articles:
            head, summary, body = (fold(part) for part in fields(article))
            head_words, summary_words, body_words = (set(TOKEN.findall(part)) for part in (head, summary, body))
            score, matched_groups = 0.0, 0
            for stems in stem_groups:
                group_score = 0.0
                for stem in stems:
                    group_score += 3 * any(word.startswith(stem) for word in head_words)
                    group_score += 2 * any(word.startswith(stem) for word in summary_words)
                    group_score += sum(word.startswith(stem) for word in body_words) ** 0.5
                if group_score:
                    matched_groups += 1
                    score += group_score
            if matched_groups and (matched_groups == len(stem_groups) or not require_all):
                score += difflib.SequenceMatcher(None, fold(results.searched), head[:120]).ratio()
                if phrase and phrase in head:
                    score += 10
                scored.append((score * matched_groups, article, fields(article)[2]))
        if scored:
            break
    scored.sort(key=lambda item: (-item[0], item[1].pk))
    results.total = len(scored)
    all_stems = {stem for stems in stem_groups for stem in stems}
    results.hits = [SearchHit(article, _python_snippet(body, all_stems)) for _, article, body in scored[:limit]]
    return results


def _python_snippet(body: str, stems: set[str], width: int = 220) -> str:
    text = " ".join(body.split())
    lowered = fold(text)  # same length as text, so positions carry over
    first = min((match.start() for stem in stems if (match := re.search(re.escape(stem), lowered))), default=0)
    start = max(first - 60, 0)
    window = text[start : start + width]
    pattern = "|".join(re.escape(stem) for stem in sorted(stems, key=len, reverse=True))
    marked, position = [], 0
    for match in re.finditer(rf"\b(?:{pattern})\w*", fold(window)):
        marked += [
            html.escape(window[position : match.start()]),
            "<mark>",
            html.escape(window[match.start() : match.end()]),
            "</mark>",
        ]
        position = match.end()
    marked.append(html.escape(window[position:]))
    return ("… " if start else "") + "".join(marked) + ("…" if start + width < len(text) else "")


def popular_articles(limit: int = 5):
    return (
        Article.objects.filter(status=Article.Status.PUBLISHED)
        .select_related("category")
        .order_by(Case(When(helpful_yes__gt=0, then=0), default=1), "-helpful_yes", "category__position", "position")[
            :limit
        ]
    )
