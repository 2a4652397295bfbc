"""URLs of the engagement app's campaigns pages (included by engagement/urls.py, namespace
`engagement`)."""

from django.urls import URLPattern, path

from kizuna.engagement import views_campaigns as views

urlpatterns: list[URLPattern] = [
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/audience/", views.campaign_audience, name="campaign_audience"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/progress/", views.campaign_progress, name="campaign_progress"),
    path("campaigns/<int:pk>/start/", views.campaign_start, name="campaign_start"),
    path("campaigns/<int:pk>/schedule/", views.campaign_schedule, name="campaign_schedule"),
    path("campaigns/<int:pk>/cancel/", views.campaign_cancel, name="campaign_cancel"),
    path("campaigns/<int:pk>/winner/", views.campaign_pick_winner, name="campaign_pick_winner"),
]
