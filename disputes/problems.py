"""The reasons a buyer can give, each with what it means and which evidence wins it."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Problem:
    code: str
    label: Promise
    meaning: Promise
    evidence: Promise


NOT_RECEIVED_PROBLEMS = [
    Problem(
        "in_transit_protection_ending",
        _("Товар ещё в пути, а защита скоро закончится"),
        _("Трек показывает движение, но посылка не успевает прийти до конца защиты."),
        _("Скриншот трека с датой последнего движения; переписка, где продавец обещает доставку."),
    ),
    Problem(
        "returned_to_seller",
        _("Посылка вернулась к продавцу"),
        _("В треке виден возврат отправителю: доставка не удалась или адрес оказался неверным."),
        _("Скриншот трека со статусом возврата."),
    ),
    Problem(
        "delivered_not_received",
        _("Трек показывает «вручено», но я посылку не получал(а)"),
        _(
            "Почта или курьер отметили доставку, а посылки у вас нет: её могли вручить другому человеку, "
            "оставить не по адресу или отметить вручение по ошибке."
        ),
        _(
            "Ответ почты или службы доставки на ваше обращение с его номером; скриншот трека со статусом «вручено»; "
            "если есть, копия извещения с чужой подписью."
        ),
    ),
    Problem(
        "no_tracking",
        _("Продавец не дал трек-номер"),
        _("В заказе нет номера отслеживания или номер не находится ни на одном сайте почты."),
        _("Скриншот страницы заказа без трек-номера; переписка, где вы просили номер."),
    ),
]

NOT_AS_DESCRIBED_PROBLEMS = [
    Problem(
        "wrong_attributes",
        _("Другой цвет, размер, дизайн или материал — или пришёл другой товар"),
        _(
            "Товар отличается от описания. Сюда же относится случай, когда вместо заказанного пришёл другой предмет "
            "(например, гель для душа вместо телефона): такая посылка не пустая."
        ),
        _("Фото товара рядом со скриншотом описания; для размера — фото с рулеткой и размерная сетка продавца."),
    ),
    Problem(
        "not_working",
        _("Не работает или работает неправильно"),
        _("Не включается, не заряжается, функции срабатывают через раз."),
        _("Короткое видео, где в кадре и сам товар, и проблема."),
    ),
    Problem(
        "poor_quality",
        _("Низкое качество"),
        _("Торчат нитки, отклеивается, облезает краска, сильный запах."),
        _("Крупные фото дефектов при хорошем свете."),
    ),
    Problem(
        "counterfeit",
        _("Подделка"),
        _("Товар продавался как оригинальный, но это копия."),
        _("Фото маркировки, упаковки и серийного номера; сравнение с описанием производителя."),
    ),
    Problem(
        "fewer_items",
        _("Пришло меньше, чем заказано"),
        _("Не хватает штук или части комплекта, указанной в описании."),
        _("Фото всего содержимого посылки, лучше видео распаковки; вес посылки из трека."),
    ),
    Problem(
        "empty_parcel",
        _("Посылка пустая"),
        _(
            "В посылке не было ничего. Если внутри лежал другой предмет, выберите «Другой цвет, размер, дизайн или "
            "материал — или пришёл другой товар»: споры с неверной причиной проигрывают."
        ),
        _("Непрерывное видео вскрытия, лучше на почте; акт почты о вскрытии или разнице в весе; вес из трека."),
    ),
    Problem(
        "damaged",
        _("Товар или упаковка повреждены"),
        _("Разбито, треснуло, помято при доставке."),
        _("Фото повреждений и упаковки; акт о повреждении, составленный на почте."),
    ),
    Problem(
        "wrong_shipping_method",
        _("Отправлено не тем способом, что оплачен"),
        _("Вы оплатили одну службу доставки, а товар пришёл другой."),
        _("Скриншот заказа со способом доставки и трек с фактической службой."),
    ),
]

ALL_PROBLEMS = {problem.code: problem for problem in NOT_RECEIVED_PROBLEMS + NOT_AS_DESCRIBED_PROBLEMS}
PROBLEMS_BY_KIND = {
    "not_received": {problem.code for problem in NOT_RECEIVED_PROBLEMS},
    "not_as_described": {problem.code for problem in NOT_AS_DESCRIBED_PROBLEMS},
}


# "Empty parcel" means nothing was inside, so nothing in it can be the wrong colour, broken, poor or
# fake; buyers who tick both lose (a cheap item instead of a phone is "a different item").
CONFLICTS = {
    "empty_parcel": frozenset({"wrong_attributes", "not_working", "poor_quality", "counterfeit", "fewer_items"})
}


def conflict_refusal(problems: list[str]) -> str | None:
    for code, others in CONFLICTS.items():
        clash = [other for other in problems if other in others]
        if code in problems and clash:
            return str(
                _(
                    "«%(empty)s» нельзя выбрать вместе с «%(other)s»: в пустой посылке нечего оценивать. Если внутри "
                    "был другой предмет, оставьте «%(different)s» и снимите «%(empty)s»."
                )
                % {
                    "empty": ALL_PROBLEMS[code].label,
                    "other": ALL_PROBLEMS[clash[0]].label,
                    "different": ALL_PROBLEMS["wrong_attributes"].label,
                }
            )
    return None


def tracking_refusal(problems: list[str], *, has_tracking: bool) -> str | None:
    if "no_tracking" in problems and has_tracking:
        return str(_("У заказа есть трек-номер: выберите, что показывает трек."))
    return None


def problems_refusal(kind: str, problems: list[str]) -> str | None:
    """Not received: exactly one of its problems. Not as described: one or more of its own that do
    not contradict each other."""
    allowed = PROBLEMS_BY_KIND.get(kind, set())
    if not problems or not set(problems) <= allowed or (kind == "not_received" and len(problems) != 1):
        return str(_("Выберите, что случилось, из предложенных вариантов."))
    return conflict_refusal(problems)


def not_received_problems_for(*, has_tracking: bool) -> list[Problem]:
    """ "No tracking number" is offered only for an order without one."""
    return [problem for problem in NOT_RECEIVED_PROBLEMS if problem.code != "no_tracking" or not has_tracking]
