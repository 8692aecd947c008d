from django.utils.translation import gettext_lazy as _

from .home import add_card, has_store

add_card("accounts:settings", 90, _("Настройки"), _("Почта, язык писем, часовой пояс, пароль."))
add_card(
    "accounts:store_returns",
    85,
    _("Адрес для возвратов"),
    _("Куда покупатели отправляют товар, если вы договорились о возврате."),
    shown_to=has_store,
)
