"""`/api/docs`: Swagger UI from our own static files (package-lock.json's swagger-ui-dist), with
the page's CSP nonce, so it works offline and under our Content-Security-Policy."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import DocsBase


class LocalSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {"url": self.get_openapi_url(api, kwargs), "deepLinking": True}
        return render(request, "api/docs.html", {"title": api.title, "settings": settings})
