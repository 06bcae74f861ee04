from django.urls import path

from monitoring import views

urlpatterns = [
    path("", views.home, name="home"),
    path("runs/", views.runs, name="runs"),
    path("inbox/", views.inbox, name="inbox"),
    path("health", views.health, name="health"),
]
