from django.urls import path

from . import views

app_name = "faq"

urlpatterns = [
    path("", views.faq_index, name="index"),
    path("search/", views.faq_search, name="search"),
    path("search/open/<str:token>/<int:pk>/", views.faq_search_open, name="search_open"),
    path("preview/<int:pk>/", views.faq_article_preview, name="preview"),
    path("<slug:category_slug>/", views.faq_category, name="category"),
    path("<slug:category_slug>/<slug:slug>/", views.faq_article, name="article"),
    path("<slug:category_slug>/<slug:slug>/vote/", views.faq_article_vote, name="vote"),
    path("<slug:category_slug>/<slug:slug>/vote/comment/", views.faq_article_vote_comment, name="vote_comment"),
]
