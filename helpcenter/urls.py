from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from . import views

admin.site.site_header = "Защита покупателя: администрирование"
admin.site.site_title = "Защита покупателя"

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("account/", include("accounts.urls")),
    path("account/orders/", include("orders.urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)
