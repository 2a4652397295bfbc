from django.urls import path

from kizuna.playbooks import views

app_name = "playbooks"

urlpatterns = [
    path("work/", views.work, name="work"),
    path("work/bulk/", views.bulk, name="bulk"),
    path("work/notifications/read/", views.notifications_read, name="notifications_read"),
    path("work/notifications/badge/", views.notification_badge, name="notification_badge"),
    path("ctas/new/", views.cta_new, name="cta_new"),
    path("ctas/<int:pk>/", views.cta_detail, name="cta"),
    path("ctas/<int:pk>/close/", views.cta_close, name="cta_close"),
    path("ctas/<int:pk>/snooze/", views.cta_snooze, name="cta_snooze"),
    path("ctas/<int:pk>/reopen/", views.cta_reopen, name="cta_reopen"),
    path("ctas/<int:pk>/reassign/", views.cta_reassign, name="cta_reassign"),
    path("ctas/<int:pk>/touchpoint/", views.cta_touchpoint, name="cta_touchpoint"),
    path("ctas/<int:pk>/tasks/<int:task_id>/toggle/", views.task_toggle, name="task_toggle"),
    path("team/", views.team, name="team"),
    path("team/move-ctas/", views.team_move_ctas, name="team_move_ctas"),
    path("team/move-accounts/", views.team_move_accounts, name="team_move_accounts"),
    path("settings/playbooks/", views.playbook_list, name="playbooks"),
    path("settings/playbooks/new/", views.playbook_new, name="playbook_new"),
    path("settings/playbooks/<int:pk>/", views.playbook_edit, name="playbook_edit"),
    path("settings/playbooks/<int:pk>/delete/", views.playbook_delete, name="playbook_delete"),
    path("settings/playbooks/<int:pk>/results/", views.playbook_results, name="playbook_results"),
    path("settings/cta-assignment/", views.rules, name="rules"),
    path("settings/cta-assignment/new/", views.rule_new, name="rule_new"),
    path("settings/cta-assignment/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("settings/cta-assignment/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("settings/cta-assignment/<int:pk>/move/", views.rule_move, name="rule_move"),
    path("accounts/<int:pk>/ctas/", views.account_panel, name="account_panel"),
]
