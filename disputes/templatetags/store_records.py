"""`{% store_record_table store %}`: the store's record where a page of another app shows a store
(the store page in admin belongs to accounts, which may not import disputes)."""

from typing import Any

from django import template

from accounts.models import Store

from ..store_record import store_record_recent

register = template.Library()


@register.inclusion_tag("disputes/_store_record_table.html")
def store_record_table(store: Store | None) -> dict[str, Any]:
    return {"record": store_record_recent(store=store) if store is not None and store.pk else None, "show_as_of": True}
