from django.urls import path

from designer import views

urlpatterns = [
    path("", views.index, name="designer"),
    path("new", views.new_workflow, name="designer-new"),
    path("import", views.import_workflow, name="designer-import"),
    path("<slug:slug>/", views.canvas, name="designer-canvas"),
    path("<slug:slug>/panel", views.node_panel, name="designer-panel"),
]
