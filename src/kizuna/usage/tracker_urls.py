"""The JavaScript tracker and the demo customer app; included at the site root by usage/urls.py
(namespace `usage`). Both are public: they run in the customer's product, not in Kizuna."""

from django.urls import path

from kizuna.usage import tracker_views

urlpatterns = [
    # The stable URL the snippet loads; the same file is also at /static/kizuna/kizuna.js.
    path("kizuna.js", tracker_views.tracker_js, name="tracker_js"),
    path("demo-app/", tracker_views.demo_app, name="demo_app"),
    path("demo-app/<slug:screen>/", tracker_views.demo_app, name="demo_app_screen"),
]
