from django.urls import include, path, re_path

from kizuna.usage import tracking, views

app_name = "usage"

urlpatterns: list = [
    # The JavaScript tracker and the demo customer app (see tracker_urls.py).
    path("", include("kizuna.usage.tracker_urls")),
    # Segment's tracking API: /v1/track, /v1/t, /v1/batch, … (with or without a final slash).
    re_path(r"^v1/(?P<kind>[A-Za-z]+)/?$", tracking.collect, name="collect"),
    path("settings/sources/", views.source_list, name="sources"),
    path("settings/sources/new/", views.source_new, name="source_new"),
    path("settings/sources/<int:pk>/rotate/", views.source_rotate, name="source_rotate"),
    path("settings/sources/<int:pk>/enabled/", views.source_enabled, name="source_enabled"),
    path("settings/usage/", views.usage_settings, name="settings"),
    path("accounts/<int:pk>/usage/", views.account_panel, name="account_panel"),
    path("contacts/<int:pk>/usage/", views.contact_panel, name="contact_panel"),
]
