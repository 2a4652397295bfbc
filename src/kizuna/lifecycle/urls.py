from django.urls import path

from kizuna.lifecycle import views

app_name = "lifecycle"

urlpatterns = [
    path("lifecycle/", views.board, name="board"),
    path("settings/stage-rules/", views.rule_list, name="rules"),
    path("settings/stage-rules/new/", views.rule_edit, name="rule_new"),
    path("settings/stage-rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("settings/stage-rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("settings/stage-rules/<int:pk>/enabled/", views.rule_enabled, name="rule_enabled"),
    path("settings/stage-rules/<int:pk>/move/", views.rule_move, name="rule_move"),
    path("accounts/<int:pk>/lifecycle/", views.account_panel, name="account_panel"),
    path("accounts/<int:pk>/lifecycle/stage/", views.account_stage, name="account_stage"),
]
