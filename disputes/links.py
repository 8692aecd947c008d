"""Evidence kept elsewhere: a link to a video hosting page, shown as a link (never embedded)."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from core.errors import ActionRefused

MAX_LINK_LENGTH = 500
_valid_url = URLValidator(schemes=["http", "https"])


def evidence_link_clean(link: str) -> str:
    """The link as stored, or ActionRefused saying what is wrong with it; "" for no link."""
    link = link.strip()
    if not link:
        return ""
    if len(link) > MAX_LINK_LENGTH:
        raise ActionRefused(_("Ссылка слишком длинная: не больше %(count)d символов.") % {"count": MAX_LINK_LENGTH})
    try:
        _valid_url(link)
    except ValidationError:
        raise ActionRefused(
            _("Нужна ссылка на страницу с видео, начинающаяся с https:// или http://, например https://youtu.be/…")
        ) from None
    if urlsplit(link).username is not None:
        raise ActionRefused(_("Ссылка не должна содержать имя пользователя или пароль."))
    return link
