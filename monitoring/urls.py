from django.urls import path

from monitoring import views

urlpatterns = [
    path("", views.home, name="home"),
    path("runs/", views.runs, name="runs"),
    path("runs/<int:run_id>/", views.run_page, name="run-detail"),
    path("runs/<int:run_id>/cancel", views.cancel_run_page, name="run-cancel"),
    path("runs/<int:run_id>/retry", views.retry_run_page, name="run-retry"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:task_id>/decide", views.decide_inbox_task, name="inbox-decide"),
    path("health", views.health, name="health"),
]
