from django.urls import path

from . import views

app_name = "disputes"

urlpatterns = [
    path("", views.dispute_list, name="list"),
    path("store/", views.store_dispute_list, name="store_list"),
    path("store/record/", views.store_record_page, name="store_record"),
    path("new/<str:number>/", views.dispute_wizard, name="wizard_start"),
    path("new/<str:number>/<slug:step>/", views.dispute_wizard, name="wizard"),
    path("files/<str:token>/", views.attachment_download, name="attachment"),
    path("<int:pk>/", views.dispute_detail, name="detail"),
    path("<int:pk>/offers/", views.offer_create, name="offer_create"),
    path("<int:pk>/offers/accept/", views.offer_accept, name="offer_accept"),
    path("<int:pk>/offers/refuse/", views.offer_refuse, name="offer_refuse"),
    path("<int:pk>/messages/", views.message_create, name="message_create"),
    path("<int:pk>/cancel/", views.dispute_cancel, name="cancel"),
    path("<int:pk>/escalate/", views.dispute_escalate, name="escalate"),
    path("<int:pk>/return/", views.return_ship, name="return_ship"),
    path("<int:pk>/return/received/", views.return_confirm, name="return_confirm"),
    path("<int:pk>/answer/", views.evidence_answer, name="evidence_answer"),
    path("<int:pk>/appeal/", views.appeal_create, name="appeal"),
]
