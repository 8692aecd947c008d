"""Accounts in Django admin.

- users.py: users and their account events; blocking.py: the block and unblock screens;
- appeals.py: account appeals and their answer; stores.py: stores; outbox.py: the e-mail outbox;
- here: staff groups, and admin's sign-in form.

Buttons and forms go through core.admin_actions.AdminActionsMixin.
"""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.admin_russian import RussianAdminMixin

from ..forms import AdminSignInForm
from ..models import AccountAppeal, OutgoingEmail, Store, User
from .appeals import AccountAppealAdmin
from .outbox import OutgoingEmailAdmin
from .stores import StoreAdmin
from .users import UserAdmin


class GroupAdmin(RussianAdminMixin, DjangoGroupAdmin):
    add_title = _("Новая группа сотрудников")
    add_label = _("Добавить группу")
    count_label = ngettext_lazy("%(count)d группа", "%(count)d групп", "count")


admin.site.register(User, UserAdmin)
admin.site.register(AccountAppeal, AccountAppealAdmin)
admin.site.register(Store, StoreAdmin)
admin.site.register(OutgoingEmail, OutgoingEmailAdmin)
admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)

# Admin's sign-in says "too many attempts" and how long to wait, as the site's does.
admin.site.login_form = AdminSignInForm
