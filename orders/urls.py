from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("store/", views.store_order_list, name="store_list"),
    path("support/", views.support_requests, name="support"),
    path("<str:number>/", views.order_detail, name="detail"),
    path("<str:number>/confirm/", views.order_confirm, name="confirm"),
    path("<str:number>/items/<int:item_id>/image/", views.item_image, name="item_image"),
    path("<str:number>/cancel/", views.order_cancel, name="cancel"),
    path("<str:number>/cancel/agree/", views.order_cancel_agree, name="cancel_agree"),
    path("<str:number>/ship/", views.order_ship, name="ship"),
    path("<str:number>/extensions/", views.extension_create, name="extension_create"),
    path("<str:number>/extensions/<int:extension_id>/", views.extension_decide, name="extension_decide"),
]
