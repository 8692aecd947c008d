from django.utils.translation import gettext_lazy as _

from .home import MenuCard, add_card

add_card(
    MenuCard(
        position=90,
        title=_("Настройки"),
        description=_("Почта, язык писем, часовой пояс, пароль."),
        url_name="accounts:settings",
    )
)
