"""Report types and their precise reasons, each said in plain words with when to choose it."""

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ReportType(models.TextChoices):
    COUNTERFEIT = "counterfeit", _("Подделка или нарушение прав")
    PROHIBITED = "prohibited", _("Ограниченный или запрещённый товар")
    SEARCH_CHEATING = "search_cheating", _("Обман поиска")
    OFF_PLATFORM = "off_platform", _("Склонение к сделке вне площадки")
    FALSE_INFORMATION = "false_information", _("Ложная информация")
    OTHER = "other", _("Другое: фишинг, спам")


@dataclass(frozen=True)
class Reason:
    code: str
    type: ReportType
    label: Promise
    # When to choose it, and what to attach.
    explanation: Promise
    # A seller may give it when reporting a buyer: what a person can do, not what a listing shows.
    against_buyer: bool = False


REASONS: dict[str, Reason] = {
    reason.code: reason
    for reason in (
        Reason(
            "fake_brand",
            ReportType.COUNTERFEIT,
            _("Копия выдаётся за оригинал бренда"),
            _("Логотип или название известного бренда на товаре, который бренд не выпускал. Приложите фото товара."),
        ),
        Reason(
            "ip_infringement",
            ReportType.COUNTERFEIT,
            _("Чужой дизайн, фото или изобретение без разрешения"),
            _("Вы автор или правообладатель, а продавец использует вашу работу. Приложите подтверждение прав."),
        ),
        Reason(
            "prohibited_item",
            ReportType.PROHIBITED,
            _("Товар запрещён к продаже"),
            _("Оружие, лекарства по рецепту, средства слежки и другие товары, которые площадка не продаёт."),
        ),
        Reason(
            "restricted_import",
            ReportType.PROHIBITED,
            _("Товар нельзя ввозить в вашу страну"),
            _("Таможня не пропускает такие товары, а продавец об этом не предупреждает."),
        ),
        Reason(
            "wrong_category",
            ReportType.SEARCH_CHEATING,
            _("Товар в чужой категории"),
            _("Товар выставлен там, где его не ищут, чтобы попасть в выдачу: чехол среди телефонов."),
        ),
        Reason(
            "misleading_price",
            ReportType.SEARCH_CHEATING,
            _("Цена вводит в заблуждение"),
            _(
                "Самая низкая цена в объявлении относится к другому, дешёвому товару: телефон «от 20 $», "
                "а за 20 $ продаётся карта памяти."
            ),
        ),
        Reason(
            "duplicate_listings",
            ReportType.SEARCH_CHEATING,
            _("Один товар выставлен много раз"),
            _("Одинаковые объявления одного продавца занимают выдачу. Укажите в описании ссылки на дубли."),
        ),
        Reason(
            "pay_outside",
            ReportType.OFF_PLATFORM,
            _("Просит оплатить напрямую"),
            _(
                "Перевод на карту, оплата через другой сайт или мессенджер. "
                "Вне площадки защита покупателя не действует."
            ),
            against_buyer=True,
        ),
        Reason(
            "confirm_early",
            ReportType.OFF_PLATFORM,
            _("Просит подтвердить получение раньше времени"),
            _("Продавец уговаривает подтвердить получение, пока товар не пришёл, или обещает за это скидку."),
        ),
        Reason(
            "contact_outside",
            ReportType.OFF_PLATFORM,
            _("Зовёт договариваться вне площадки"),
            _("Просит написать в мессенджер или на почту, чтобы обойти площадку. Приложите скриншот переписки."),
            against_buyer=True,
        ),
        Reason(
            "false_specs",
            ReportType.FALSE_INFORMATION,
            _("Ложные характеристики"),
            _("Объём памяти, материал, мощность или размер не такие, как написано. Приложите фото или замеры."),
        ),
        Reason(
            "fake_documents",
            ReportType.FALSE_INFORMATION,
            _("Поддельные сертификаты или документы"),
            _("Сертификат, которого нет в реестре, или документ другого товара."),
        ),
        Reason(
            "fake_reviews",
            ReportType.FALSE_INFORMATION,
            _("Выдуманные отзывы"),
            _("Отзывы написаны продавцом или за вознаграждение: одинаковые тексты, чужие фото."),
        ),
        Reason(
            "false_statements",
            ReportType.FALSE_INFORMATION,
            _("Ложные сведения о заказе"),
            _(
                "Другая сторона пишет о заказе то, чего не было: в отзыве, в переписке или в споре. "
                "Приложите скриншоты и то, что показывает, как было на самом деле."
            ),
            against_buyer=True,
        ),
        Reason(
            "phishing",
            ReportType.OTHER,
            _("Фишинг"),
            _("Ссылка на поддельную страницу входа или оплаты, просьба назвать код из SMS или пароль."),
            against_buyer=True,
        ),
        Reason(
            "spam",
            ReportType.OTHER,
            _("Спам"),
            _("Навязчивые рассылки и реклама, не относящиеся к заказу."),
            against_buyer=True,
        ),
        Reason(
            "other_violation",
            ReportType.OTHER,
            _("Другое нарушение правил"),
            _("Ничего из списка не подходит. Опишите подробно, что произошло."),
            against_buyer=True,
        ),
    )
}


def reasons_for(*, against_buyer: bool) -> list[Reason]:
    """Every reason, or, for a seller reporting a buyer, those about what a person does (a listing's
    specifications, documents or reviews, and urging an early confirmation, are a seller's)."""
    return [reason for reason in REASONS.values() if not against_buyer or reason.against_buyer]


def reason_groups(*, against_buyer: bool) -> list[tuple[ReportType, list[Reason]]]:
    """The reasons grouped under their type, in the order the form shows them."""
    chosen = reasons_for(against_buyer=against_buyer)
    return [
        (report_type, [reason for reason in chosen if reason.type == report_type])
        for report_type in ReportType
        if any(reason.type == report_type for reason in chosen)
    ]
