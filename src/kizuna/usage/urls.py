from django.urls import include, path

app_name = "usage"

urlpatterns: list = [
    # The JavaScript tracker and the demo customer app (see tracker_urls.py).
    path("", include("kizuna.usage.tracker_urls")),
]
