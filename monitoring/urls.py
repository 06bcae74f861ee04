from django.urls import path

from monitoring import decision_links, inbox_views, machine_views, run_action_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("runs/", views.runs, name="runs"),
    path("runs/<int:run_id>/", views.run_page, name="run-detail"),
    path("runs/<int:run_id>/cancel", views.cancel_run_page, name="run-cancel"),
    path("runs/<int:run_id>/retry", views.retry_run_page, name="run-retry"),
    path("runs/<int:run_id>/pause", run_action_views.pause_run_page, name="run-pause"),
    path("runs/<int:run_id>/resume", run_action_views.resume_run_page, name="run-resume"),
    path("runs/<int:run_id>/rerun", run_action_views.rerun_run_page, name="run-rerun"),
    path("runs/<int:run_id>/fork", run_action_views.fork_run_page, name="run-fork"),
    path("runs/<int:run_id>/events", run_action_views.send_run_event, name="run-event"),
    path(
        "runs/<int:run_id>/tasks/<int:task_id>/decide",
        run_action_views.decide_run_task,
        name="run-decide",
    ),
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
    path("health", views.health, name="health"),
]
