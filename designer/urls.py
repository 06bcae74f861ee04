from django.urls import path

from designer import views

urlpatterns = [
    path("", views.index, name="designer"),
]
