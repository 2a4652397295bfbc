"""Tech touch's pages, under one namespace (`engagement`); each area keeps its own list."""

from kizuna.engagement import (
    urls_campaigns,
    urls_inapp,
    urls_insights,
    urls_sending,
    urls_templates,
    urls_tracking,
)

app_name = "engagement"
urlpatterns = [
    *urls_templates.urlpatterns,
    *urls_sending.urlpatterns,
    *urls_tracking.urlpatterns,
    *urls_campaigns.urlpatterns,
    *urls_inapp.urlpatterns,
    *urls_insights.urlpatterns,
]
