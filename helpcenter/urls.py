from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import URLPattern, URLResolver, include, path

from core import views
from faq.sitemaps import ArticleSitemap, CategorySitemap
from faq.views import faq_image
from orders.views import marketplace_order_feed, payment_webhook, tracking_webhook

SITEMAPS = {"faq-categories": CategorySitemap, "faq-articles": ArticleSitemap}

# Django's page for errors, but an unreachable Redis gets a 503 page that keeps what was typed.
handler500 = views.server_error

admin.site.site_header = "Защита покупателя: администрирование"
admin.site.site_title = "Защита покупателя"

urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("faq-images/<str:token>.<str:extension>", faq_image, name="faq_image"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("payments/webhook/", payment_webhook, name="payment_webhook"),
    path("tracking/webhook/", tracking_webhook, name="tracking_webhook"),
    # Beside a marketplace: its signed order events, and signing in with its accounts (docs/deploy.md).
    path("marketplace/orders/events/", marketplace_order_feed, name="marketplace_order_feed"),
    path("oidc/", include("accounts.oidc")),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("faq/", include("faq.urls")),
    path("account/", include("accounts.urls")),
    path("account/orders/", include("orders.urls")),
    path("account/disputes/", include("disputes.urls")),
    path("account/reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)
