"""Orders in Django admin.

- orders.py: orders (with their items, cancellations, tracking, extensions and events), refunds
  and their confirmation by hand, support requests and their answers, tracking events entered by staff;
- feed.py: the events the marketplace sent through the order feed.

Each module registers its screens; buttons and forms go through core.admin_actions.AdminActionsMixin.
"""

from . import feed, orders

__all__ = ["feed", "orders"]
