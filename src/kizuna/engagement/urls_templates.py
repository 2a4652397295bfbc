"""URLs of the email template and sender pages (included by engagement/urls.py, namespace
`engagement`)."""

from django.urls import URLPattern, path

from kizuna.engagement import views_templates as views

urlpatterns: list[URLPattern] = [
    path("tech-touch/templates/", views.template_list, name="templates"),
    path("tech-touch/templates/new/", views.template_new, name="template_new"),
    path("tech-touch/templates/contacts/", views.template_contacts, name="template_contacts"),
    path("tech-touch/templates/<int:pk>/", views.template_detail, name="template"),
    path("tech-touch/templates/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("tech-touch/templates/<int:pk>/archive/", views.template_archive, name="template_archive"),
    path("tech-touch/templates/<int:pk>/preview/", views.template_preview, name="template_preview"),
    path(
        "tech-touch/templates/<int:pk>/test-send/",
        views.template_test_send,
        name="template_test_send",
    ),
    path(
        "tech-touch/templates/<int:pk>/versions/<int:number>/",
        views.template_version,
        name="template_version",
    ),
    path("tech-touch/senders/", views.sender_list, name="senders"),
    path("tech-touch/senders/new/", views.sender_new, name="sender_new"),
    path("tech-touch/senders/<int:pk>/edit/", views.sender_edit, name="sender_edit"),
]
