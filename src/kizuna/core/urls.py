from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path, reverse_lazy

from kizuna.core import views
from kizuna.core.conditions import views as condition_views

app_name = "core"

urlpatterns = [
    path("login/", login_not_required(views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        login_not_required(
            auth_views.PasswordResetView.as_view(
                template_name="core/password_reset.html",
                email_template_name="core/password_reset_email.txt",
                subject_template_name="core/password_reset_subject.txt",
                success_url=reverse_lazy("core:password_reset_done"),
            )
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        login_not_required(
            auth_views.PasswordResetDoneView.as_view(template_name="core/password_reset_done.html")
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        login_not_required(
            auth_views.PasswordResetConfirmView.as_view(
                template_name="core/password_reset_confirm.html",
                success_url=reverse_lazy("core:password_reset_complete"),
            )
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        login_not_required(
            auth_views.PasswordResetCompleteView.as_view(
                template_name="core/password_reset_complete.html"
            )
        ),
        name="password_reset_complete",
    ),
    path("settings/users/", views.user_list, name="users"),
    path("settings/users/new/", views.user_edit, name="user_new"),
    path("settings/users/<int:pk>/", views.user_edit, name="user_edit"),
    path("settings/audit/", views.audit_log, name="audit"),
    path("conditions/metrics.json", condition_views.metrics_json, name="conditions_metrics"),
    path("conditions/choices.json", condition_views.choices_json, name="conditions_choices"),
    path("conditions/preview/", condition_views.preview, name="conditions_preview"),
    path("conditions/explore/", condition_views.explore, name="conditions_explore"),
]
