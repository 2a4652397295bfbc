"""URLs of the content-preference report (included by engagement/urls.py)."""

from django.urls import path

from kizuna.engagement import views_insights

urlpatterns = [
    path("tech-touch/content/", views_insights.content_preferences, name="content_preferences"),
]
