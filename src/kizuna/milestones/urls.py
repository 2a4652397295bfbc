from django.urls import path

from kizuna.milestones import views

app_name = "milestones"

urlpatterns = [
    path("settings/milestones/", views.milestone_list, name="list"),
    path("settings/milestones/new/", views.milestone_edit, name="new"),
    path("settings/milestones/<int:pk>/", views.milestone_edit, name="edit"),
    path("settings/milestones/<int:pk>/delete/", views.milestone_delete, name="delete"),
    path("settings/milestones/<int:pk>/enabled/", views.milestone_enabled, name="enabled"),
    path("settings/milestones/<int:pk>/move/", views.milestone_move, name="move"),
    path("accounts/<int:pk>/milestones/", views.account_panel, name="account_panel"),
]
