from django.utils.translation import gettext_lazy as _

from accounts.home import MenuCard, add_card, has_store

add_card(
    MenuCard(
        position=30,
        title=_("Мои споры"),
        description=_("Открытые и закрытые споры, предложения продавцов и ближайшие сроки."),
        url_name="disputes:list",
    )
)
add_card(
    MenuCard(
        position=40,
        title=_("Споры магазина"),
        description=_("Споры покупателей, на которые нужно ответить, и их сроки."),
        url_name="disputes:store_list",
        shown_to=has_store,
    )
)
add_card(
    MenuCard(
        position=45,
        title=_("Мой рейтинг споров"),
        description=_("Споры, претензии и возвраты магазина за 30, 90 и 365 дней — и что их улучшает."),
        url_name="disputes:store_record",
        shown_to=has_store,
    )
)
