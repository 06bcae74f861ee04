from django.db.models import Max, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from designer.models import Workflow
from engine.definitions import code_workflows
from engine.models import GraphVersion


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    newest = GraphVersion.objects.filter(workflow=OuterRef("slug"), retired=False)
    graph_workflows = Workflow.objects.annotate(
        published=Subquery(newest.values("workflow").annotate(n=Max("number")).values("n")[:1])
    )
    return render(
        request,
        "designer/index.html",
        {"code_workflows": code_workflows(), "graph_workflows": graph_workflows},
    )
