"""The help centre in admin: sections, articles with their pictures, the publish and unpublish
actions over selected articles, and "Пробелы справки" (searches and articles that left readers
without an answer)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from django_stubs_ext import StrOrPromise

from core.admin_actions import AdminActionsMixin
from core.admin_russian import RussianAdminMixin
from core.admin_widgets import ViewLinkFileWidget
from core.csv_export import csv_response
from core.uploads import reencode_image

from . import gaps, services
from .models import Article, ArticleImage, Category


class ArticleImageForm(forms.ModelForm):
    class Meta:
        model = ArticleImage
        fields = ("image", "caption")
        # The file box of a saved picture follows "Currently … Change:", which is not its label.
        widgets = {
            "image": ViewLinkFileWidget(
                link_for=lambda image: reverse("faq_image", args=[image.token, image.format.lower()]),  # type: ignore[attr-defined]
                attrs={"aria-label": _("Файл картинки")},
            )
        }

    def clean_image(self):
        uploaded = self.cleaned_data.get("image")
        if uploaded is None or not hasattr(uploaded, "content_type"):
            return uploaded  # unchanged on edit
        from django.conf import settings

        clean = reencode_image(uploaded, max_bytes=settings.FAQ_IMAGE_MAX_BYTES)
        self.instance.token = str(clean.content.name).split(".")[0]
        self.instance.format = clean.format
        return clean.content


class ArticleImageInline(admin.StackedInline):
    model = ArticleImage
    form = ArticleImageForm
    extra = 1
    readonly_fields = ("markdown_to_paste",)

    @admin.display(description=_("вставьте в текст"))
    def markdown_to_paste(self, image):
        return format_html("<code>{}</code>", image.markdown) if image.pk else "—"


class HelpCentreAdmin(AdminActionsMixin, RussianAdminMixin, admin.ModelAdmin):
    """What the admins of sections and articles share: the list's editable "position" box, named
    for screen readers (its column header is not its label), and saving and deleting through
    faq/services.py (which render the text and clear the help centre's cached pages), the list's
    bulk delete included."""

    position_label: StrOrPromise = ""

    def save_row(self, obj: Any) -> None:
        raise NotImplementedError

    def delete_row(self, obj: Any) -> None:
        raise NotImplementedError

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        box = forms.NumberInput(attrs={"aria-label": self.position_label, "class": "vIntegerField"})
        kwargs.setdefault("widgets", {"position": box})
        return super().get_changelist_form(request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.save_row(obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete_row(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_row(obj)


@admin.register(Category)
class CategoryAdmin(HelpCentreAdmin):
    add_title = _("Новый раздел справки")
    add_label = _("Добавить раздел")
    count_label = ngettext_lazy("%(count)d раздел", "%(count)d разделов", "count")
    list_display = ("title_ru", "slug", "position")
    list_editable = ("position",)
    position_label = _("Порядок раздела в справке")
    prepopulated_fields = {}
    search_fields = ("title_ru", "title_en")

    def save_row(self, category: Category) -> None:
        services.category_save(category=category)

    def delete_row(self, category: Category) -> None:
        services.category_delete(category=category)


@admin.register(Article)
class ArticleAdmin(HelpCentreAdmin):
    add_title = _("Новая статья")
    add_label = _("Добавить статью")
    count_label = ngettext_lazy("%(count)d статья", "%(count)d статей", "count")
    list_display = (
        "title_ru",
        "category",
        "status",
        "position",
        "has_english",
        "helpful_yes",
        "helpful_no",
        "updated_at",
    )
    list_filter = ("status", "category")
    list_editable = ("position",)
    position_label = _("Порядок статьи в разделе")
    list_select_related = ("category",)
    search_fields = ("title_ru", "title_en", "keywords_ru", "body_ru")
    readonly_fields = ("preview_link", "helpful_yes", "helpful_no", "published_at", "updated_at")
    inlines = [ArticleImageInline]
    actions = ["publish", "unpublish"]
    change_list_template = "admin/faq/article/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            self.staff_url("gaps/", self.gaps_view, name="faq_help_gaps", permission="faq.view_help_gaps"),
            *super().get_urls(),
        ]

    def gaps_view(self, request: HttpRequest) -> HttpResponse:
        """ "Пробелы справки": searches that found nothing, searches whose first result nobody opened, and
        the articles voted "not helpful" with their comments, for 7 or 30 days; CSV on request."""
        days = 7 if request.GET.get("days") == "7" else 30
        if request.GET.get("format") == "csv":
            return csv_response(f"help-gaps-{days}d.csv", gaps.gap_rows(days=days))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Пробелы справки"),
            "days": days,
            "not_found": gaps.searches_not_found(days=days),
            "not_opened": gaps.searches_first_not_opened(days=days),
            "unhelpful": gaps.unhelpful_articles(days=days),
        }
        return TemplateResponse(request, "admin/faq/gaps.html", context)

    fieldsets = (
        (None, {"fields": ("category", "slug", "status", "position", "preview_link")}),
        (_("По-русски"), {"fields": ("title_ru", "summary_ru", "keywords_ru", "body_ru")}),
        (_("По-английски"), {"fields": ("title_en", "summary_en", "keywords_en", "body_en"), "classes": ("collapse",)}),
        (_("Связи и отзывы"), {"fields": ("related", "helpful_yes", "helpful_no", "published_at", "updated_at")}),
    )

    @admin.display(boolean=True, description=_("есть по-английски"))
    def has_english(self, article):
        return article.has_english

    @admin.display(description=_("предпросмотр"))
    def preview_link(self, article):
        if not article.pk:
            return _("Сохраните статью, чтобы увидеть предпросмотр.")
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("faq:preview", args=[article.pk]),
            _("Открыть"),
        )

    def save_row(self, article: Article) -> None:
        services.article_save(article=article)

    def delete_row(self, article: Article) -> None:
        services.article_delete(article=article)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Images uploaded with this save get their URLs into the rendered text.
        services.article_save(article=form.instance)

    @admin.action(description=_("Опубликовать"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self.status_set(request, queryset, Article.Status.PUBLISHED)

    @admin.action(description=_("Снять с публикации (в черновики)"), permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self.status_set(request, queryset, Article.Status.DRAFT)

    def status_set(self, request: HttpRequest, articles: QuerySet[Article], status: str) -> None:
        self.run_on_each(
            request,
            articles,
            lambda article: services.article_status_set(article=article, status=status),
            success=lambda count: status_set_message(status, count),
        )


def status_set_message(status: str, count: int) -> str:
    if status == Article.Status.PUBLISHED:
        text = ngettext("Опубликована %(count)d статья.", "Опубликовано %(count)d статей.", count)
    else:
        text = ngettext("В черновики перенесена %(count)d статья.", "В черновики перенесено %(count)d статей.", count)
    return text % {"count": count}
