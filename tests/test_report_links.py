"""Product links as buyers paste them: the marketplace's real forms pass with their item id, and
look-alikes, other sites, store pages and broken links are refused with a message that helps."""

import pytest
from django.core.exceptions import ValidationError

from reports.links import parse_product_link

GOOD_LINKS = [
    ("https://aliexpress.ru/item/1005001234567890.html", "1005001234567890"),
    ("https://www.aliexpress.com/item/1005001234567890.html", "1005001234567890"),
    ("https://aliexpress.com/item/1005001234567890.html?spm=a2g0o.productlist.main.1&algo_pvid=x", "1005001234567890"),
    ("https://m.aliexpress.com/item/1005001234567890.html#nav-review", "1005001234567890"),
    ("https://m.aliexpress.ru/item/1005001234567890.html?sku_id=12000023456", "1005001234567890"),
    ("https://ru.aliexpress.com/item/32812345678.html", "32812345678"),
    ("https://de.aliexpress.com/item/1005001234567890.html?gatewayAdapt=glo2deu", "1005001234567890"),
    ("https://pt.aliexpress.com/item/1005001234567890.html", "1005001234567890"),
    ("https://m.ru.aliexpress.com/item/1005001234567890.html", "1005001234567890"),
    ("https://www.aliexpress.us/item/3256801234567890.html", "3256801234567890"),
    ("https://aliexpress.com/i/1005001234567890.html", "1005001234567890"),
    ("https://www.aliexpress.com/item/Wireless-Earbuds-TWS/32812345678.html", "32812345678"),
    ("aliexpress.ru/item/1005001234567890.html", "1005001234567890"),
    ("  https://aliexpress.ru/item/1005001234567890.html  ", "1005001234567890"),
    ("http://aliexpress.ru/item/1005001234567890.html", "1005001234567890"),
    ("HTTPS://ALIEXPRESS.RU/item/1005001234567890.html", "1005001234567890"),
    ("https://aliexpress.ru//item/1005001234567890.html", "1005001234567890"),
    ("https://aliexpress.ru./item/1005001234567890.html", "1005001234567890"),
]

BAD_LINKS = [
    ("", "Вставьте ссылку"),
    ("https://aliexpress.com.evil.io/item/1005001234567890.html", "не на AliExpress"),
    ("https://evil.io/aliexpress.com/item/1005001234567890.html", "не на AliExpress"),
    ("https://aliexpress.ru.phish.example/item/1005001234567890.html", "не на AliExpress"),
    ("https://notaliexpress.com/item/1005001234567890.html", "не на AliExpress"),
    ("https://aliexpress.com@evil.io/item/1005001234567890.html", "спрятан другой адрес"),
    ("https://user:pass@aliexpress.com/item/1005001234567890.html", "спрятан другой адрес"),
    ("https://aliexpress.com:8443/item/1005001234567890.html", "спрятан другой адрес"),
    ("javascript:alert(1)//aliexpress.com/item/1005001234567890.html", "https://"),
    ("ftp://aliexpress.com/item/1005001234567890.html", "https://"),
    ("https://aliexpress.ru/store/1234567", "ссылка на магазин"),
    ("https://aliexpress.ru/store/all-wholesale-products/1234567.html", "ссылка на магазин"),
    ("https://s.click.aliexpress.com/e/_DkLmNoP", "короткая ссылка"),
    ("https://a.aliexpress.com/_mKzAbCd", "короткая ссылка"),
    ("https://aliexpress.ru/wholesale?SearchText=наушники", "не страница товара"),
    ("https://aliexpress.ru/item/abc.html", "не страница товара"),
    ("https://aliexpress.ru/item/123.html", "не страница товара"),
    ("https://aliexpress.ru/item/1005001234567890", "не страница товара"),
    ("https://aliexpress.ru/item/1005001234567890.html/../../admin", "не страница товара"),
    ("https://aliexpress.ru/item/1005001234567890.html https://evil.io", "одну ссылку"),
    ("https://[::1/item/1.html", "повреждена"),
]


@pytest.mark.parametrize(("text", "item_id"), GOOD_LINKS)
def test_real_product_links_give_their_item_id(text, item_id):
    link = parse_product_link(text)
    assert link.item_id == item_id
    assert link.url == f"https://aliexpress.ru/item/{item_id}.html"


@pytest.mark.parametrize(("text", "message"), BAD_LINKS)
def test_bad_links_are_refused_with_a_message_that_says_why(text, message):
    with pytest.raises(ValidationError) as refused:
        parse_product_link(text)
    assert message in refused.value.messages[0]
