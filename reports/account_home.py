from django.utils.translation import gettext_lazy as _

from accounts.home import MenuCard, add_card

add_card(
    MenuCard(
        position=50,
        title=_("Мои жалобы"),
        description=_("Жалобы на продавцов и товары: статус, история и ответ поддержки. Подать новую."),
        url_name="reports:list",
    )
)
add_card(
    MenuCard(
        position=55,
        title=_("Жалобы на меня"),
        description=_("Если на вас пожаловались: в чём суть, доказательства и срок ответа."),
        url_name="reports:against_me",
    )
)
