"""URLs of in-app guidance (included by engagement/urls.py, namespace `engagement`): the
public endpoints kizuna.js calls, and the pages where people manage the messages."""

from django.urls import URLPattern, path

from kizuna.engagement import inapp_api, views_inapp

urlpatterns: list[URLPattern] = [
    # Public, for kizuna.js in the customer's product (next to the tracking API's /v1/…).
    path("v1/inapp/decide", inapp_api.decide, name="inapp_decide"),
    path("v1/inapp/events", inapp_api.events, name="inapp_events"),
    path("kizuna-inapp.js", inapp_api.guidance_js, name="inapp_js"),
    path("tech-touch/inapp/", views_inapp.inapp_list, name="inapp_list"),
    path("tech-touch/inapp/new/", views_inapp.inapp_new, name="inapp_new"),
    path("tech-touch/inapp/<int:pk>/", views_inapp.inapp_detail, name="inapp"),
    path("tech-touch/inapp/<int:pk>/edit/", views_inapp.inapp_edit, name="inapp_edit"),
    path("tech-touch/inapp/<int:pk>/status/", views_inapp.inapp_status, name="inapp_status"),
    path("tech-touch/inapp/step-row/", views_inapp.step_row, name="inapp_step_row"),
]
