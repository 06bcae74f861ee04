"""ASGI entry point: Django for HTTP, Channels for WebSockets (`daphne config.asgi:application`)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before the routing imports consumers and models.
django_http = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.body_limit import BodyLimit, install_daphne_cap  # noqa: E402
from monitoring.routing import websocket_urlpatterns  # noqa: E402

install_daphne_cap()
application = ProtocolTypeRouter(
    {
        "http": BodyLimit(django_http),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
