from django.urls import path

from kizuna.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", views.account_list, name="accounts"),
    path("accounts/export.csv", views.account_export, name="accounts_export"),
    path("accounts/new/", views.account_new, name="account_new"),
    path("accounts/<int:pk>/", views.account_detail, name="account"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:pk>/delete/", views.account_delete, name="account_delete"),
    path("accounts/<int:pk>/timeline/", views.account_timeline, name="account_timeline"),
    path("accounts/<int:pk>/touchpoints/", views.touchpoint_log, name="touchpoint_log"),
    path("accounts/<int:pk>/contacts/new/", views.contact_new, name="contact_new"),
    path("accounts/<int:pk>/contracts/new/", views.subscription_new, name="subscription_new"),
    path("accounts/<int:pk>/opportunities/new/", views.opportunity_new, name="opportunity_new"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("contracts/<int:pk>/edit/", views.subscription_edit, name="subscription_edit"),
    path("contracts/<int:pk>/delete/", views.subscription_delete, name="subscription_delete"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:pk>/delete/", views.opportunity_delete, name="opportunity_delete"),
    path("touchpoints/<int:pk>/edit/", views.touchpoint_edit, name="touchpoint_edit"),
    path("touchpoints/<int:pk>/delete/", views.touchpoint_delete, name="touchpoint_delete"),
    path("settings/tiers/", views.tier_settings, name="tiers"),
    path("settings/custom-fields/", views.custom_field_list, name="custom_fields"),
    path("settings/custom-fields/new/", views.custom_field_edit, name="custom_field_new"),
    path("settings/custom-fields/<int:pk>/", views.custom_field_edit, name="custom_field_edit"),
    path(
        "settings/custom-fields/<int:pk>/delete/",
        views.custom_field_delete,
        name="custom_field_delete",
    ),
]
