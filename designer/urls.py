from django.urls import path

from designer import machine_views, views

# Fixed words before slugs, the bare canvas route last. path() matches whole paths, so
# "<slug>/" never takes "<slug>/settings"; and since any word is a valid slug, a workflow called
# "new" or "settings" keeps its canvas at "/designer/new/" (trailing slash) beside these pages,
# and a machine's page ("machines/<slug>/", two segments) never meets a workflow's.
urlpatterns = [
    path("", views.index, name="designer"),
    path("new", views.new_workflow, name="designer-new"),
    path("import", views.import_workflow, name="designer-import"),
    path("template-fields", views.template_fields, name="designer-template-fields"),
    path("machines/<slug:slug>/", machine_views.machine_page, name="designer-machine"),
    path(
        "machines/<slug:slug>/canvas/", machine_views.machine_canvas, name="designer-machine-canvas"
    ),
    path("<slug:slug>/settings", views.workflow_settings, name="designer-settings"),
    path("<slug:slug>/delete", views.delete_workflow, name="designer-delete"),
    path("<slug:slug>/panel", views.node_panel, name="designer-panel"),
    path("<slug:slug>/start", views.start_code_run, name="designer-start"),
    path("<slug:slug>/", views.canvas, name="designer-canvas"),
]
