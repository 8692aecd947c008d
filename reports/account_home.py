from django.utils.translation import gettext_lazy as _

from accounts.home import add_card

add_card(
    "reports:list",
    50,
    _("Мои жалобы"),
    _("Жалобы на продавцов и товары: статус, история и ответ поддержки. Подать новую."),
)
add_card(
    "reports:against_me",
    55,
    _("Жалобы на меня"),
    _("Если на вас пожаловались: в чём суть, доказательства и срок ответа."),
)
