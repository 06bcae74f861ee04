from django.urls import path

from monitoring.consumers import (
    DashboardConsumer,
    InboxConsumer,
    InstanceConsumer,
    MachineConsumer,
    PingConsumer,
    ResilienceConsumer,
    RunConsumer,
    RunsListConsumer,
)

websocket_urlpatterns = [
    path("ws/ping/", PingConsumer.as_asgi()),
    path("ws/runs/", RunsListConsumer.as_asgi()),
    path("ws/runs/<int:run_id>/", RunConsumer.as_asgi()),
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/dashboards/", DashboardConsumer.as_asgi()),
    path("ws/instances/<int:instance_id>/", InstanceConsumer.as_asgi()),
    path("ws/machines/<slug:slug>/", MachineConsumer.as_asgi()),
    path("ws/resilience/", ResilienceConsumer.as_asgi()),
]
