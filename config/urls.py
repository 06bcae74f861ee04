from django.contrib import admin
from django.urls import include, path, re_path

from config.api import api
from engine.views import webhook

admin.site.site_header = "Stepwise administration"
admin.site.site_title = "Stepwise admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^hooks/(?P<slug>[^/]{1,200})/?$", webhook, name="webhook"),
    path("designer/", include("designer.urls")),
    path("", include("accounts.urls")),
    path("", include("monitoring.urls")),
]
