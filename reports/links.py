"""Marketplace product links as buyers paste them: desktop, mobile and regional hosts, with or
without the scheme, with tracking query strings and fragments."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# aliexpress.com, .ru and .us, with www., m., a two-letter regional prefix (ru., de., pt., ...)
# or both (m.ru.aliexpress.com). Anything else, including look-alikes that merely contain these
# names (aliexpress.com.evil.io, evil.io/aliexpress.com/...), is not the marketplace.
_HOST = re.compile(r"^(?:m\.)?(?:(?:www|m|[a-z]{2})\.)?aliexpress\.(?:com|ru|us)$")
# /item/<id>.html, the legacy /item/<title-slug>/<id>.html and the mobile /i/<id>.html.
_PATH = re.compile(r"^/(?:item/(?:[^/]+/)?|i/)(?P<item_id>\d{8,20})\.html?$")
# "javascript:...", "data:...": a scheme without "//" is never a web page.
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d)", re.IGNORECASE)
_STORE_PATH = re.compile(r"^/store/(?:[^/]+/)?\d+")
_SHORT_HOSTS = ("s.click.aliexpress.com", "a.aliexpress.com", "a.aliexpress.ru", "click.aliexpress.com")
MAX_LINK_LENGTH = 2000


@dataclass(frozen=True)
class ProductLink:
    item_id: str
    # The link rewritten to its canonical form, without tracking parameters.
    url: str


def parse_product_link(text: str) -> ProductLink:
    """The product a pasted link points at, or ValidationError saying what is wrong with it."""
    raw = text.strip()
    if not raw:
        raise ValidationError(_("Вставьте ссылку на страницу товара."))
    if len(raw) > MAX_LINK_LENGTH or any(character.isspace() for character in raw):
        raise ValidationError(_("Это не похоже на одну ссылку: вставьте адрес страницы товара целиком."))
    if "://" not in raw and not raw.startswith("//"):
        if _OTHER_SCHEME.match(raw):
            raise ValidationError(_("Ссылка должна начинаться с https://."))
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise ValidationError(_("Ссылка повреждена: скопируйте её из адресной строки ещё раз.")) from None
    if parts.scheme.lower() not in ("http", "https", ""):
        raise ValidationError(_("Ссылка должна начинаться с https://."))
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.username is not None or parts.password is not None or port not in (None, 80, 443):
        raise ValidationError(_("Это не ссылка на AliExpress: в ней спрятан другой адрес."))
    if host in _SHORT_HOSTS:
        raise ValidationError(
            _("Это короткая ссылка. Откройте её, дождитесь страницы товара и скопируйте адрес из адресной строки.")
        )
    if not _HOST.match(host):
        raise ValidationError(_("Это ссылка не на AliExpress. Жаловаться здесь можно на товары AliExpress."))
    path = re.sub(r"/{2,}", "/", parts.path)
    if _STORE_PATH.match(path):
        raise ValidationError(
            _(
                "Это ссылка на магазин, а нужна ссылка на товар. Чтобы пожаловаться на магазин, откройте заказ "
                "у этого продавца и нажмите «Пожаловаться на продавца»."
            )
        )
    match = _PATH.match(path)
    if match is None:
        raise ValidationError(
            _("Это не страница товара. Ссылка на товар выглядит так: https://aliexpress.ru/item/1005001234567890.html")
        )
    item_id = match["item_id"]
    return ProductLink(item_id=item_id, url=f"https://aliexpress.ru/item/{item_id}.html")
