"""URLs of the engagement app's campaigns pages (included by engagement/urls.py, namespace
`engagement`)."""

from django.urls import URLPattern, path

from kizuna.engagement import views_campaigns as views

urlpatterns: list[URLPattern] = [
    path("tech-touch/campaigns/", views.campaign_list, name="campaigns"),
    path("tech-touch/campaigns/new/", views.campaign_new, name="campaign_new"),
    path("tech-touch/campaigns/audience/", views.campaign_audience, name="campaign_audience"),
    path("tech-touch/campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("tech-touch/campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path(
        "tech-touch/campaigns/<int:pk>/progress/", views.campaign_progress, name="campaign_progress"
    ),
    path("tech-touch/campaigns/<int:pk>/start/", views.campaign_start, name="campaign_start"),
    path(
        "tech-touch/campaigns/<int:pk>/schedule/", views.campaign_schedule, name="campaign_schedule"
    ),
    path("tech-touch/campaigns/<int:pk>/cancel/", views.campaign_cancel, name="campaign_cancel"),
    path(
        "tech-touch/campaigns/<int:pk>/winner/",
        views.campaign_pick_winner,
        name="campaign_pick_winner",
    ),
]
