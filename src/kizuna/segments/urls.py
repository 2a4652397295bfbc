from django.urls import path

from kizuna.segments import views

app_name = "segments"

urlpatterns = [
    path("segments/", views.segment_list, name="list"),
    path("segments/new/", views.segment_new, name="new"),
    path("segments/<int:pk>/", views.segment_detail, name="detail"),
    path("segments/<int:pk>/edit/", views.segment_edit, name="edit"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="delete"),
    path("segments/<int:pk>/recalculate/", views.segment_recalculate, name="recalculate"),
    path("segments/<int:pk>/members.csv", views.segment_export, name="export"),
    path("segments/<int:pk>/members/candidates/", views.member_candidates, name="candidates"),
    path("segments/<int:pk>/members/add/", views.member_add, name="member_add"),
    path(
        "segments/<int:pk>/members/<int:account_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("segments/<int:pk>/members/import/", views.member_import, name="member_import"),
    path("accounts/<int:pk>/segments/", views.account_panel, name="account_panel"),
]
