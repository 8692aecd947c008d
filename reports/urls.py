from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("against-me/", views.reports_against_me, name="against_me"),
    path("new/", views.report_new, name="new"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/answer/", views.report_answer, name="answer"),
    path("files/<str:token>/", views.report_file, name="file"),
]
