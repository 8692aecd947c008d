"""Disputes and claims in Django admin. Arbitrators work from the claims queue and one claim page
that shows the whole case next to the forms that act on it; every form calls a service in
disputes/claims.py, and the page offers only what the rulebook allows the viewer now.

- queue.py: the claims queue (its rows and their texts); filters.py: the queue's filters;
- claim_page.py: the claim page, its buttons (take, evidence request, reclassify), a store's record;
- decision.py: the decision and the appeal's decision with their confirmation page (ClaimAdmin);
- forms.py: the claim page's forms;
- policy.py: the arbitration policy's rules, their switches and the consistency report;
- records.py: disputes, exchange rates and evidence files, for reading.

Every button and form goes through core.admin_actions.AdminActionsMixin.
"""

from django.contrib import admin

from ..models import Attachment, Claim, Dispute, ExchangeRate, PolicyRuleSwitch
from .decision import ClaimAdmin
from .policy import PolicyRuleSwitchAdmin
from .records import AttachmentAdmin, DisputeAdmin, ExchangeRateAdmin

admin.site.register(Claim, ClaimAdmin)
admin.site.register(Dispute, DisputeAdmin)
admin.site.register(ExchangeRate, ExchangeRateAdmin)
admin.site.register(Attachment, AttachmentAdmin)
admin.site.register(PolicyRuleSwitch, PolicyRuleSwitchAdmin)
