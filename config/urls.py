from django.contrib import admin
from django.urls import include, path, re_path

from config.api import api, no_such_endpoint
from engine.views import webhook

admin.site.site_header = "Stepwise administration"
admin.site.site_title = "Stepwise admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # After the API's own routes: anything else under /api/ answers JSON, not the 404 page.
    path("api/", include([re_path(r"", no_such_endpoint)])),
    re_path(r"^hooks/(?P<slug>[^/]{1,200})/?$", webhook, name="webhook"),
    path("designer/", include("designer.urls")),
    path("", include("accounts.urls")),
    path("", include("monitoring.urls")),
]

# Our own error pages (accounts.errors): styled, saying what was refused (a body over a limit:
# JSON under /api/ and /hooks/) and the reason for a 403.
handler400 = "accounts.errors.bad_request"
handler403 = "accounts.errors.permission_denied"
handler404 = "accounts.errors.page_not_found"
handler500 = "accounts.errors.server_error"
