from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kizuna.core.urls")),
    path("", include("kizuna.customers.urls")),
    path("", include("kizuna.usage.urls")),
    path("", include("kizuna.lifecycle.urls")),
    path("", include("kizuna.health.urls")),
    path("", include("kizuna.segments.urls")),
    path("", include("kizuna.milestones.urls")),
    path("", include("kizuna.playbooks.urls")),
    path("", include("kizuna.flows.urls")),
    path("", include("kizuna.engagement.urls")),
    path("", include("kizuna.integrations.urls")),
    path("", include("kizuna.api.urls")),
]

handler403 = "kizuna.core.views.permission_denied"
handler404 = "kizuna.core.views.page_not_found"
handler500 = "kizuna.core.views.server_error"
