from django.urls import path

from kizuna.flows import views

app_name = "flows"

STEP = "flows/<int:pk>/steps/<str:step_id>"

urlpatterns = [
    path("flows/", views.flow_list, name="list"),
    path("flows/new/", views.flow_new, name="new"),
    path("flows/templates/", views.gallery, name="gallery"),
    path("flows/templates/<slug:key>/use/", views.gallery_use, name="gallery_use"),
    path("flows/<int:pk>/", views.flow_detail, name="detail"),
    path("flows/<int:pk>/settings/", views.flow_settings, name="settings"),
    path("flows/<int:pk>/status/", views.flow_status, name="status"),
    path("flows/<int:pk>/delete/", views.flow_delete, name="delete"),
    path("flows/<int:pk>/steps/add/", views.step_add, name="step_add"),
    path(f"{STEP}/edit/", views.step_edit, name="step_edit"),
    path(f"{STEP}/delete/", views.step_delete, name="step_delete"),
    path("flows/<int:pk>/dry-run/", views.dry_run, name="dry_run"),
    path("flows/<int:pk>/dry-run/accounts/", views.account_options, name="account_options"),
    path("flows/<int:pk>/simulate/", views.simulate, name="simulate"),
    path("flows/<int:pk>/results/", views.flow_results, name="results"),
    path("flows/<int:pk>/log/", views.flow_log, name="log"),
    path("accounts/<int:pk>/flows/", views.account_panel, name="account_panel"),
]
