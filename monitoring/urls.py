from django.urls import path

from monitoring import dashboard_views, decision_links, inbox_views, machine_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("runs/", views.runs, name="runs"),
    path("runs/<int:run_id>/", views.run_page, name="run-detail"),
    path("runs/<int:run_id>/cancel", views.cancel_run_page, name="run-cancel"),
    path("runs/<int:run_id>/retry", views.retry_run_page, name="run-retry"),
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/<int:task_id>/", inbox_views.task_detail, name="inbox-task"),
    path("inbox/<int:task_id>/decide", inbox_views.decide_inbox_task, name="inbox-decide"),
    path("inbox/bulk", inbox_views.bulk_decide, name="inbox-bulk"),
    path("inbox/views", inbox_views.save_view, name="inbox-save-view"),
    path("inbox/views/<int:view_id>/delete", inbox_views.delete_view, name="inbox-delete-view"),
    path("inbox/count", inbox_views.open_count, name="inbox-count"),
    path("inbox/<int:task_id>/claim", inbox_views.claim_inbox_task, name="inbox-claim"),
    path("inbox/<int:task_id>/unclaim", inbox_views.unclaim_inbox_task, name="inbox-unclaim"),
    path("inbox/decide/<str:token>", decision_links.decision_link, name="inbox-decide-link"),
    path("profile/delegation", inbox_views.delegation, name="delegation"),
    path("machines/", machine_views.machines, name="machines"),
    path("machines/<slug:slug>/", machine_views.machine_overview, name="machine-overview"),
    path(
        "machines/<slug:slug>/instances",
        machine_views.create_machine_instance,
        name="machine-instance-create",
    ),
    path(
        "machines/<slug:slug>/instances/<int:instance_id>/",
        machine_views.instance_page,
        name="machine-instance",
    ),
    path(
        "machines/<slug:slug>/instances/<int:instance_id>/events",
        machine_views.send_instance_event,
        name="machine-instance-event",
    ),
    path("dashboards/", dashboard_views.dashboards, name="dashboards"),
    path("dashboards/data", dashboard_views.dashboard_data, name="dashboard-data"),
    path("health", views.health, name="health"),
    path("metrics", dashboard_views.metrics, name="metrics"),
]
