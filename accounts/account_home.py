from django.utils.translation import gettext_lazy as _

from .home import MenuCard, add_card, has_store

add_card(
    MenuCard(
        position=90,
        title=_("Настройки"),
        description=_("Почта, язык писем, часовой пояс, пароль."),
        url_name="accounts:settings",
    )
)
add_card(
    MenuCard(
        position=85,
        title=_("Адрес для возвратов"),
        description=_("Куда покупатели отправляют товар, если вы договорились о возврате."),
        url_name="accounts:store_returns",
        shown_to=has_store,
    )
)
