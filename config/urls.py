from django.contrib import admin
from django.urls import include, path

from config.api import api

admin.site.site_header = "Stepwise administration"
admin.site.site_title = "Stepwise admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("designer/", include("designer.urls")),
    path("", include("config.accounts.urls")),
    path("", include("monitoring.urls")),
]
