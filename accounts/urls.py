from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import blocked_views, views

app_name = "accounts"

urlpatterns = [
    path("", views.account_home, name="home"),
    path("settings/", views.account_settings, name="settings"),
    path("store/returns/", views.store_returns, name="store_returns"),
    path("blocked/", blocked_views.blocked, name="blocked"),
    path("blocked/files/<str:token>/", blocked_views.blocked_file, name="blocked_file"),
    path("signup/", views.sign_up, name="signup"),
    path("signup/sent/", views.sign_up_sent, name="signup_sent"),
    path("signup/confirm/<str:token>/", views.sign_up_confirm, name="signup_confirm"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetRequestView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("accounts:password_change_done")),
        name="password_change",
    ),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
