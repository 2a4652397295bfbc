"""URLs of the engagement app's inapp pages (included by engagement/urls.py, namespace
`engagement`)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
