from django.utils.translation import gettext_lazy as _

from accounts.home import add_card, has_store

add_card("disputes:list", 30, _("Мои споры"), _("Открытые и закрытые споры, предложения продавцов и ближайшие сроки."))
add_card(
    "disputes:store_list",
    40,
    _("Споры магазина"),
    _("Споры покупателей, на которые нужно ответить, и их сроки."),
    shown_to=has_store,
)
add_card(
    "disputes:store_record",
    45,
    _("Мой рейтинг споров"),
    _("Споры, претензии и возвраты магазина за 30, 90 и 365 дней — и что их улучшает."),
    shown_to=has_store,
)
