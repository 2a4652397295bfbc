from django.urls import path

from kizuna.integrations import views

app_name = "integrations"

urlpatterns = [
    path("data/imports/", views.import_list, name="imports"),
    path("data/imports/<int:pk>/", views.import_detail, name="import"),
    path("data/imports/<int:pk>/dry-run/", views.import_dry_run, name="import_dry_run"),
    path("data/imports/<int:pk>/mapping/", views.import_use_mapping, name="import_use_mapping"),
    path("data/imports/<int:pk>/apply/", views.import_apply, name="import_apply"),
    path("data/imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("data/imports/<int:pk>/restart/", views.import_restart, name="import_restart"),
    path("data/imports/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
    path("data/mappings/", views.mapping_list, name="mappings"),
    path("data/mappings/<int:pk>/", views.mapping_edit, name="mapping_edit"),
    path("data/mappings/<int:pk>/delete/", views.mapping_delete, name="mapping_delete"),
    path("data/mappings/<int:pk>/mapping.json", views.mapping_json, name="mapping_json"),
    path("data/export/", views.export_page, name="export"),
    path("data/export/<str:object_type>.csv", views.export_csv, name="export_csv"),
    path("data/export/<str:object_type>.xlsx", views.export_xlsx, name="export_xlsx"),
]
