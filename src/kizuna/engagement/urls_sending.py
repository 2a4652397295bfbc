"""URLs of the engagement app's sending pages (included by engagement/urls.py, namespace
`engagement`)."""

from django.urls import URLPattern, path

from kizuna.engagement import views_sending

urlpatterns: list[URLPattern] = [
    path("tech-touch/outbox/", views_sending.outbox, name="outbox"),
    path("tech-touch/cap-log/", views_sending.cap_log, name="cap_log"),
    path("tech-touch/sending-rules/", views_sending.sending_settings, name="sending_settings"),
    path("tech-touch/mailbox/", views_sending.mailbox_list, name="mailbox"),
    path("tech-touch/mailbox/<str:key>/", views_sending.mailbox_message, name="mailbox_message"),
]
