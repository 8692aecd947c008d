from typing import overload

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import choice_label

from .text import current_language


def _in_language(obj, field: str, language: str | None = None) -> str:
    """The English text when the page is English and one exists; Russian otherwise."""
    language = (language or current_language())[:2]
    if language == "en":
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, f"{field}_ru")


class InLanguage:
    """A text kept twice, as `<name>_ru` and `<name>_en`, read in the page's language (_in_language)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.field = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> "InLanguage": ...

    @overload
    def __get__(self, obj: models.Model, owner: type | None = None) -> str: ...

    def __get__(self, obj: models.Model | None, owner: type | None = None) -> "str | InLanguage":
        return self if obj is None else _in_language(obj, self.field)


class Category(models.Model):
    slug = models.SlugField(_("адрес"), max_length=80, unique=True)
    title_ru = models.CharField(_("название"), max_length=200)
    title_en = models.CharField(_("название по-английски"), max_length=200, blank=True)
    description_ru = models.CharField(_("описание"), max_length=300, blank=True)
    description_en = models.CharField(_("описание по-английски"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("порядок"), default=0)

    class Meta:
        verbose_name = _("раздел справки")
        verbose_name_plural = _("разделы справки")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title_ru

    def get_absolute_url(self) -> str:
        return reverse("faq:category", args=[self.slug])

    # The texts in the page's language.
    title = InLanguage()
    description = InLanguage()


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("черновик")
        PUBLISHED = "published", _("опубликована")

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="articles", verbose_name=_("раздел"))
    slug = models.SlugField(_("адрес"), max_length=120)
    status = models.CharField(_("статус"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    position = models.PositiveSmallIntegerField(_("порядок в разделе"), default=0)
    title_ru = models.CharField(_("заголовок"), max_length=200)
    title_en = models.CharField(_("заголовок по-английски"), max_length=200, blank=True)
    summary_ru = models.CharField(
        _("краткое описание"), max_length=300, help_text=_("Для поисковиков и списка статей: одна-две фразы.")
    )
    summary_en = models.CharField(_("краткое описание по-английски"), max_length=300, blank=True)
    keywords_ru = models.TextField(
        _("слова для поиска"),
        blank=True,
        help_text=_(
            "Как покупатели называют эту проблему своими словами, через запятую: «не пришла посылка, потерялась»."
        ),
    )
    keywords_en = models.TextField(_("слова для поиска по-английски"), blank=True)
    body_ru = models.TextField(_("текст (Markdown)"))
    body_en = models.TextField(_("текст по-английски (Markdown)"), blank=True)
    # Rendered by faq.rendering on every save: sanitised HTML for the page and plain text for
    # the search index and snippets.
    body_html_ru = models.TextField(editable=False, default="")
    body_html_en = models.TextField(editable=False, default="")
    body_text_ru = models.TextField(editable=False, default="")
    body_text_en = models.TextField(editable=False, default="")
    toc_ru = models.JSONField(editable=False, default=list)
    toc_en = models.JSONField(editable=False, default=list)
    related = models.ManyToManyField("self", blank=True, symmetrical=True, verbose_name=_("связанные статьи"))
    helpful_yes = models.PositiveIntegerField(_("полезно"), default=0, editable=False)
    helpful_no = models.PositiveIntegerField(_("бесполезно"), default=0, editable=False)
    published_at = models.DateTimeField(_("опубликована"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("обновлена"), auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)
    get_status_display = choice_label("status")

    class Meta:
        verbose_name = _("статья")
        verbose_name_plural = _("статьи")
        ordering = ["category__position", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["category", "slug"], name="faq_article_slug_per_category")]
        indexes = [models.Index(fields=["status", "category", "position"])]

    def __str__(self) -> str:
        return self.title_ru

    def get_absolute_url(self) -> str:
        return reverse("faq:article", args=[self.category.slug, self.slug])

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    # The texts in the page's language.
    title = InLanguage()
    summary = InLanguage()
    body_html = InLanguage()

    @property
    def toc(self) -> list:
        return self.toc_en if current_language() == "en" and self.body_en else self.toc_ru

    @property
    def has_english(self) -> bool:
        return bool(self.title_en and self.body_en)


def article_image_path(instance, filename: str) -> str:
    # The uploaded name is never used: images are re-encoded and stored under a random name.
    return f"faq/{instance.token}.{instance.format.lower()}"


class ArticleImage(models.Model):
    """A screenshot for articles, referenced in Markdown as ![caption](image:ID)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="images", verbose_name=_("статья"))
    image = models.ImageField(_("картинка"), upload_to=article_image_path, width_field="width", height_field="height")
    caption = models.CharField(_("подпись"), max_length=200, blank=True)
    token = models.CharField(max_length=32, unique=True, editable=False)
    format = models.CharField(max_length=8, editable=False)
    width = models.PositiveIntegerField(editable=False, null=True)
    height = models.PositiveIntegerField(editable=False, null=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("картинка статьи")
        verbose_name_plural = _("картинки статей")

    def __str__(self) -> str:
        return self.caption or f"image:{self.pk}"

    @property
    def markdown(self) -> str:
        return f"![{self.caption}](image:{self.pk})"


class SearchWord(models.Model):
    """Every word the articles use: the dictionary that search corrects typos against."""

    word = models.CharField(max_length=64, primary_key=True)

    class Meta:
        verbose_name = _("слово поиска")
        verbose_name_plural = _("слова поиска")

    def __str__(self) -> str:
        return self.word


class ArticleVote(models.Model):
    """One "was this helpful?" answer per visitor and article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    visitor = models.CharField(max_length=64)
    helpful = models.BooleanField()
    # What a "not helpful" voter says was missing (optional); support reads it in "Пробелы справки".
    comment = models.TextField(_("чего не хватило"), blank=True, max_length=1000, db_default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "visitor"], name="faq_one_vote_per_visitor")]

    def __str__(self) -> str:
        return f"{self.article_id}: {'+' if self.helpful else '-'}"


class SearchLog(models.Model):
    """One search in the help centre, kept to find what the articles do not answer. It holds no
    user, session or address: only the normalised words, how many articles matched, and whether
    the first result was opened (through a random token in the result links). Deleted after
    SEARCH_LOG_RETENTION_DAYS by a sweep."""

    token = models.CharField(max_length=32, unique=True)
    query = models.CharField(_("запрос"), max_length=200)
    language = models.CharField(_("язык"), max_length=5)
    results = models.PositiveIntegerField(_("найдено статей"))
    first_result = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("первая статья")
    )
    first_opened = models.BooleanField(_("первую статью открыли"), default=False)
    created_at = models.DateTimeField(_("когда"), db_index=True)

    class Meta:
        verbose_name = _("поиск в справке")
        verbose_name_plural = _("поиски в справке")
        ordering = ["-created_at"]
        permissions = [("view_help_gaps", _("Может смотреть пробелы справки"))]

    def __str__(self) -> str:
        return self.query
