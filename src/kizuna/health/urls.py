from django.urls import path

from kizuna.health import backtest_views, views

app_name = "health"

urlpatterns = [
    path("health/", views.overview, name="overview"),
    path("health/scorecards/", views.scorecard_list, name="scorecards"),
    path("health/scorecards/new/", views.scorecard_new, name="scorecard_new"),
    path("health/scorecards/<int:pk>/", views.scorecard_edit, name="scorecard"),
    path("health/scorecards/editor/rows/", views.editor_rows, name="editor_rows"),
    path("health/scorecards/editor/preview/", views.editor_preview, name="editor_preview"),
    path("health/scorecards/editor/backtest/", backtest_views.run, name="backtest"),
    path(
        "health/scorecards/templates/", backtest_views.install_templates, name="install_templates"
    ),
    path("accounts/<int:pk>/health/", views.account_panel, name="account_panel"),
    path("accounts/<int:pk>/health/overrides/", views.override_new, name="override_new"),
    path("health/overrides/<int:pk>/remove/", views.override_remove, name="override_remove"),
]
