"""URLs of the engagement app's tracking pages (included by engagement/urls.py, namespace
`engagement`). The public paths under e/ are the ones `tracking_links` signs."""

from django.urls import URLPattern, path

from kizuna.engagement import views_tracking as views

urlpatterns: list[URLPattern] = [
    path("e/o/<str:token>/<str:signature>.gif", views.track_open, name="track_open"),
    path("e/c/<str:token>/<int:index>/<str:signature>", views.track_click, name="track_click"),
    path("e/u/<str:token>/<str:signature>/", views.preference_centre, name="preferences"),
    path("tech-touch/suppressions/", views.suppression_list, name="suppressions"),
    path("tech-touch/suppressions/add/", views.suppression_add, name="suppression_add"),
    path("tech-touch/suppressions/export/", views.suppression_export, name="suppression_export"),
    path(
        "tech-touch/suppressions/<int:pk>/remove/",
        views.suppression_remove,
        name="suppression_remove",
    ),
    path("contacts/<int:pk>/emails/", views.contact_emails, name="contact_emails"),
]
