from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engine.definitions import code_workflows


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "designer/index.html", {"code_workflows": code_workflows()})
