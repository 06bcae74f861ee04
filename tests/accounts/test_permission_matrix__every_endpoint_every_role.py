"""The permission matrix: every API endpoint by every role (and no role, and anonymous) gets the
documented answer — 401 without credentials, 403 for a role that lacks the capability, and
anything but 401/403 for a role that has it. The table must name every operation of the
OpenAPI schema: a new endpoint without a row fails here until someone decides who may call it.

Each call carries a body that passes the schema, so that the answer is the permission's, not
the body validation's; path parameters name things that do not exist (allowed callers then
get 404 or 422, never 403)."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from accounts.models import ApiToken
from accounts.roles import ROLE_CAPABILITIES, Capability, Role
from config.api import api

pytestmark = pytest.mark.django_db

C = Capability
ANY_ROLE = frozenset({C.VIEW})
ADMIN = "administrator"
"""Only a user with the model permission (a superuser here): no role grants it."""
SIGNED_IN = "signed in"
"""Anyone with credentials, a user without roles too (to learn that they have none)."""

# "METHOD path" → (who may: capabilities of which any suffices, or ADMIN; a body that passes).
MATRIX: dict[str, tuple[frozenset[Capability] | str, Any]] = {
    "GET /api/me": (SIGNED_IN, None),
    "GET /api/people": (frozenset({C.EDIT_WORKFLOWS, C.REASSIGN_TASKS}), None),
    "GET /api/runs": (ANY_ROLE, None),
    "POST /api/runs/bulk-cancel": (frozenset({C.CANCEL_RUNS}), {"ids": [999999]}),
    "POST /api/runs/bulk-retry": (frozenset({C.RETRY_RUNS}), {"ids": [999999]}),
    "POST /api/system/worker-probes": (frozenset({C.RUN_DIAGNOSTICS}), None),
    "GET /api/system/worker-probes/{probe_id}": (ANY_ROLE, None),
    "POST /api/workflows/{slug}/runs": (frozenset({C.START_RUNS}), {"input": {}}),
    "GET /api/runs/{run_id}": (ANY_ROLE, None),
    "GET /api/runs/{run_id}/journal": (ANY_ROLE, None),
    "GET /api/runs/{run_id}/timeline": (ANY_ROLE, None),
    "GET /api/runs/{run_id}/timeline/items": (ANY_ROLE, {"group": "loop:n"}),
    "GET /api/runs/{run_id}/steps/{step_id}": (ANY_ROLE, None),
    "GET /api/runs/{run_id}/nodes/{node_id}": (ANY_ROLE, None),
    "GET /api/runs/{run_id}/step-states": (ANY_ROLE, None),
    "POST /api/runs/{run_id}/cancel": (frozenset({C.CANCEL_RUNS}), None),
    "POST /api/runs/{run_id}/retry": (frozenset({C.RETRY_RUNS}), None),
    "POST /api/runs/{run_id}/pause": (frozenset({C.CANCEL_RUNS}), None),
    "POST /api/runs/{run_id}/resume": (frozenset({C.CANCEL_RUNS}), None),
    "POST /api/runs/{run_id}/rerun": (frozenset({C.START_RUNS}), {"input": {}}),
    "POST /api/runs/{run_id}/fork": (frozenset({C.START_RUNS}), {"from_seq": 1}),
    "POST /api/events": (frozenset({C.START_RUNS}), {"type": "Matrix.probed", "payload": {}}),
    "GET /api/events": (ANY_ROLE, None),
    "GET /api/webhooks": (ANY_ROLE, None),
    "POST /api/webhooks": (
        frozenset({C.EDIT_SCHEDULES}),
        {"slug": "matrix", "title": "M", "workflow": "nope"},
    ),
    "PATCH /api/webhooks/{slug}": (frozenset({C.EDIT_SCHEDULES}), {"title": "M"}),
    "POST /api/webhooks/{slug}/rotate": (frozenset({C.EDIT_SCHEDULES}), None),
    "GET /api/webhooks/{slug}/deliveries": (ANY_ROLE, None),
    "POST /api/webhooks/{slug}/deliveries/{delivery_id}/replay": (frozenset({C.RETRY_RUNS}), None),
    "GET /api/tasks": (ANY_ROLE, None),
    "GET /api/tasks/search": (ANY_ROLE, None),
    "GET /api/tasks/{task_id}": (ANY_ROLE, None),
    # Being an assignee is the permission to decide; any role may try, the task then says.
    "POST /api/tasks/{task_id}/decide": (ANY_ROLE, {"decision": "approved"}),
    "POST /api/tasks/{task_id}/claim": (ANY_ROLE, None),
    "POST /api/tasks/{task_id}/unclaim": (ANY_ROLE, None),
    "POST /api/tasks/{task_id}/reassign": (
        frozenset({C.REASSIGN_TASKS}),
        {"users": ["nobody"], "note": "matrix"},
    ),
    "GET /api/me/delegations": (ANY_ROLE, None),
    "POST /api/me/delegations": (
        ANY_ROLE,
        {"delegate": "nobody", "starts_on": "2026-12-01", "ends_on": "2026-12-02"},
    ),
    "DELETE /api/me/delegations/{delegation_id}": (ANY_ROLE, None),
    "POST /api/machines/{slug}/instances": (frozenset({C.START_RUNS}), {"key": "k-1"}),
    "GET /api/machines/{slug}/instances": (ANY_ROLE, None),
    "GET /api/machines/{slug}/states": (ANY_ROLE, None),
    "GET /api/instances/{instance_id}": (ANY_ROLE, None),
    "POST /api/instances/{instance_id}/events": (frozenset({C.START_RUNS}), {"event": "go"}),
    "POST /api/instances/{instance_id}/migrate": (frozenset({C.START_RUNS}), {"version": 1}),
    "GET /api/workflows/{slug}/secrets": (ANY_ROLE, None),
    "POST /api/workflows/{slug}/secrets": (ADMIN, {"name": "MATRIX"}),
    "DELETE /api/workflows/{slug}/secrets/{name}": (ADMIN, None),
    "GET /api/workflows": (ANY_ROLE, None),
    "POST /api/workflows": (frozenset({C.EDIT_WORKFLOWS}), {"slug": "matrix", "title": "M"}),
    "POST /api/workflows/import": (frozenset({C.EDIT_WORKFLOWS}), {"document": {}}),
    "GET /api/workflows/{slug}": (ANY_ROLE, None),
    "PATCH /api/workflows/{slug}": (frozenset({C.EDIT_WORKFLOWS}), {"title": "M"}),
    "DELETE /api/workflows/{slug}": (frozenset({C.EDIT_WORKFLOWS}), None),
    "GET /api/workflows/{slug}/draft": (ANY_ROLE, None),
    "PUT /api/workflows/{slug}/draft": (
        frozenset({C.EDIT_WORKFLOWS}),
        {"graph": {"nodes": [], "edges": []}, "revision": 1},
    ),
    "POST /api/workflows/{slug}/validate": (ANY_ROLE, None),
    "POST /api/workflows/{slug}/publish": (frozenset({C.PUBLISH_WORKFLOWS}), None),
    "GET /api/workflows/{slug}/versions": (ANY_ROLE, None),
    "GET /api/workflows/{slug}/versions/{number}": (ANY_ROLE, None),
    "POST /api/workflows/{slug}/versions/{number}/activate-triggers": (
        frozenset({C.START_RUNS}),
        None,
    ),
    "GET /api/workflows/{slug}/diff": (ANY_ROLE, {"from": "1", "to": "draft"}),
    "GET /api/workflows/{slug}/export": (ANY_ROLE, None),
    "POST /api/workflows/{slug}/instantiate": (
        frozenset({C.EDIT_WORKFLOWS}),
        {"slug": "matrix", "title": "M"},
    ),
    "GET /api/node-types": (ANY_ROLE, None),
    "GET /api/resilience/breakers": (ANY_ROLE, None),
    "GET /api/resilience/rate-limits": (ANY_ROLE, None),
    "POST /api/resilience/breakers/{name}/reset": (frozenset({C.RESET_BREAKERS}), None),
    "GET /api/machines": (ANY_ROLE, None),
    "POST /api/machines": (frozenset({C.EDIT_WORKFLOWS}), {"slug": "matrix", "title": "M"}),
    "POST /api/machines/import": (
        frozenset({C.EDIT_WORKFLOWS}),
        {"format": "json", "text": "{}", "slug": "matrix"},
    ),
    "GET /api/machines/{slug}": (ANY_ROLE, None),
    "DELETE /api/machines/{slug}": (frozenset({C.EDIT_WORKFLOWS}), None),
    "GET /api/machines/{slug}/draft": (ANY_ROLE, None),
    "PUT /api/machines/{slug}/draft": (
        frozenset({C.EDIT_WORKFLOWS}),
        {"definition": {}, "revision": 1},
    ),
    "POST /api/machines/{slug}/validate": (ANY_ROLE, None),
    "POST /api/machines/{slug}/publish": (frozenset({C.PUBLISH_WORKFLOWS}), None),
    "GET /api/machines/{slug}/versions": (ANY_ROLE, None),
    "GET /api/machines/{slug}/versions/{number}": (ANY_ROLE, None),
    "GET /api/machines/{slug}/diff": (ANY_ROLE, {"from": "1", "to": "draft"}),
    "GET /api/machines/{slug}/export": (ANY_ROLE, None),
    "POST /api/workflows/{slug}/draft/expressions/check": (
        frozenset({C.EDIT_WORKFLOWS}),
        {"node": "n", "field": "expression", "expression": "true"},
    ),
    "POST /api/workflows/{slug}/draft/test-run": (frozenset({C.EDIT_WORKFLOWS}), {"input": {}}),
    "POST /api/workflows/{slug}/draft/nodes/{node}/test": (
        frozenset({C.EDIT_WORKFLOWS}),
        {"input": {}},
    ),
    "GET /api/workflows/{slug}/draft/pins": (frozenset({C.EDIT_WORKFLOWS}), None),
    "PUT /api/workflows/{slug}/draft/pins/{node}": (frozenset({C.EDIT_WORKFLOWS}), {"output": 1}),
    "DELETE /api/workflows/{slug}/draft/pins/{node}": (frozenset({C.EDIT_WORKFLOWS}), None),
}

PATH_VALUES = {
    "slug": "matrix-nope",
    "run_id": "999999",
    "probe_id": "999999",
    "task_id": "999999",
    "delegation_id": "999999",
    "instance_id": "999999",
    "number": "1",
    "name": "MATRIX",
    "node": "n",
    "delivery_id": "d-1",
    "step_id": "1",
    "node_id": "n",
}


def operations() -> set[str]:
    schema = api.get_openapi_schema()
    return {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}


def test_every_operation_has_a_row() -> None:
    found = operations()
    assert sorted(found - set(MATRIX)) == [], "new endpoints: add a row saying who may call them"
    assert sorted(set(MATRIX) - found) == [], "rows for endpoints that no longer exist"


def concrete(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


def call(client: Any, operation: str, headers: dict[str, str]) -> int:
    method, path = operation.split(" ", 1)
    body = MATRIX[operation][1]
    send = getattr(client, method.lower())
    if method == "GET":
        return int(send(concrete(path), body or {}, headers=headers).status_code)
    return int(
        send(
            concrete(path), body or {}, content_type="application/json", headers=headers
        ).status_code
    )


def bearer(user: User) -> dict[str, str]:
    _, raw = ApiToken.issue(user, "matrix")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def callers(make_user: Any) -> dict[str, dict[str, str]]:
    people = {role.value: bearer(make_user(f"m-{role.value}", role.value)) for role in Role}
    people["no role"] = bearer(make_user("m-nobody"))
    people["superuser"] = bearer(make_user("m-root", is_superuser=True, is_staff=True))
    return people


def allowed(who: str, rule: frozenset[Capability] | str) -> bool:
    if who == "superuser" or rule == SIGNED_IN:
        return True
    if rule == ADMIN or who == "no role":
        return False
    assert isinstance(rule, frozenset)
    return bool(rule & ROLE_CAPABILITIES[Role(who)])


def test_each_role_gets_the_documented_answer(
    client: Any, callers: dict[str, dict[str, str]]
) -> None:
    """One pass over the whole table (one set of users and tokens), every mismatch listed."""
    assert Group.objects.filter(name__in=[r.value for r in Role]).count() == len(Role)
    wrong: dict[str, dict[str, int]] = {}
    for operation in sorted(MATRIX):
        rule = MATRIX[operation][0]
        answers = {"anonymous": call(client, operation, {})}
        for who, headers in callers.items():
            answers[who] = call(client, operation, headers)
        mismatched = {
            who: status
            for who, status in answers.items()
            if (who == "anonymous" and status != 401)
            or (who != "anonymous" and allowed(who, rule) and status in (401, 403))
            or (who != "anonymous" and not allowed(who, rule) and status != 403)
            or status >= 500
        }
        if mismatched:
            wrong[operation] = answers
    assert wrong == {}


# --- pages ---------------------------------------------------------------------------------
PUBLIC = "public"
"""Answers without a login: its own check (a token, a signature) or none (health, login)."""

# URL name → (method, who may, path arguments). Objects named exist (a graph workflow
# "matrix-flow", run 424242); others do not, which allowed callers learn as a 404.
PAGES: dict[str, tuple[str, frozenset[Capability] | str, dict[str, Any]]] = {
    "webhook": ("POST", PUBLIC, {"slug": "nope"}),
    "login": ("GET", PUBLIC, {}),
    "logout": ("POST", PUBLIC, {}),
    "health": ("GET", PUBLIC, {}),
    "metrics": ("GET", PUBLIC, {}),
    "inbox-decide-link": ("GET", PUBLIC, {"token": "nope"}),
    "designer": ("GET", ANY_ROLE, {}),
    "designer-new": ("POST", frozenset({C.EDIT_WORKFLOWS}), {}),
    "designer-import": ("POST", frozenset({C.EDIT_WORKFLOWS}), {}),
    "designer-template-fields": ("GET", frozenset({C.EDIT_WORKFLOWS}), {}),
    "designer-machine": ("GET", ANY_ROLE, {"slug": "nope"}),
    "designer-machine-canvas": ("GET", ANY_ROLE, {"slug": "nope"}),
    "designer-settings": ("GET", frozenset({C.EDIT_WORKFLOWS}), {"slug": "matrix-flow"}),
    "designer-delete": ("POST", frozenset({C.EDIT_WORKFLOWS}), {"slug": "matrix-flow"}),
    "designer-panel": ("POST", ANY_ROLE, {"slug": "matrix-flow"}),
    "designer-start": ("POST", frozenset({C.START_RUNS}), {"slug": "matrix-flow"}),
    "designer-canvas": ("GET", ANY_ROLE, {"slug": "matrix-flow"}),
    "home": ("GET", ANY_ROLE, {}),
    "runs": ("GET", ANY_ROLE, {}),
    "runs-bulk": ("POST", frozenset({C.CANCEL_RUNS, C.RETRY_RUNS}), {}),
    "runs-save-view": ("POST", ANY_ROLE, {}),
    "runs-delete-view": ("POST", ANY_ROLE, {"view_id": 999999}),
    "run-detail": ("GET", ANY_ROLE, {"run_id": 424242}),
    "run-cancel": ("POST", frozenset({C.CANCEL_RUNS}), {"run_id": 424242}),
    "run-retry": ("POST", frozenset({C.RETRY_RUNS}), {"run_id": 424242}),
    "run-pause": ("POST", frozenset({C.CANCEL_RUNS}), {"run_id": 424242}),
    "run-resume": ("POST", frozenset({C.CANCEL_RUNS}), {"run_id": 424242}),
    "run-rerun": ("POST", frozenset({C.START_RUNS}), {"run_id": 424242}),
    "run-fork": ("POST", frozenset({C.START_RUNS}), {"run_id": 424242}),
    "run-event": ("POST", frozenset({C.START_RUNS}), {"run_id": 424242}),
    "run-decide": ("POST", ANY_ROLE, {"run_id": 424242, "task_id": 999999}),
    "inbox": ("GET", ANY_ROLE, {}),
    "inbox-task": ("GET", ANY_ROLE, {"task_id": 999999}),
    "inbox-decide": ("POST", ANY_ROLE, {"task_id": 999999}),
    "inbox-bulk": ("POST", ANY_ROLE, {}),
    "inbox-save-view": ("POST", ANY_ROLE, {}),
    "inbox-delete-view": ("POST", ANY_ROLE, {"view_id": 999999}),
    "inbox-count": ("GET", ANY_ROLE, {}),
    "inbox-claim": ("POST", ANY_ROLE, {"task_id": 999999}),
    "inbox-unclaim": ("POST", ANY_ROLE, {"task_id": 999999}),
    "delegation": ("GET", ANY_ROLE, {}),
    "machines": ("GET", ANY_ROLE, {}),
    "machine-overview": ("GET", ANY_ROLE, {"slug": "nope"}),
    "machine-instance-create": ("POST", frozenset({C.START_RUNS}), {"slug": "nope"}),
    "machine-instance": ("GET", ANY_ROLE, {"slug": "nope", "instance_id": 999999}),
    "machine-instance-event": (
        "POST",
        frozenset({C.START_RUNS}),
        {"slug": "nope", "instance_id": 999999},
    ),
    "dashboards": ("GET", ANY_ROLE, {}),
    "dashboard-data": ("GET", ANY_ROLE, {}),
    "resilience-bulkheads": ("GET", ANY_ROLE, {}),
    "resilience-caps": ("GET", ANY_ROLE, {}),
    "resilience": ("GET", ANY_ROLE, {}),
    "resilience-reset": ("POST", frozenset({C.RESET_BREAKERS}), {"name": "nope"}),
}


# Forms whose permission depends on what is asked: the fields that ask it.
PAGE_FORMS = {"runs-bulk": {"action": "cancel", "run": "424242"}}


def page_names() -> set[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    names: set[str] = set()

    def walk(resolver: URLResolver) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                if not str(pattern.pattern).startswith(("admin/", "api/")):
                    walk(pattern)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(pattern.name)

    walk(get_resolver())
    return names


def test_every_page_has_a_row() -> None:
    assert sorted(page_names() - set(PAGES)) == [], "new pages: add a row saying who may open them"
    assert sorted(set(PAGES) - page_names()) == []


def test_each_role_gets_the_documented_page(client: Any, make_user: Any) -> None:
    from django.urls import reverse
    from django.utils import timezone

    from designer.drafts import create_workflow
    from engine.models import Run

    create_workflow(slug="matrix-flow", title="Matrix", user=None)
    Run.objects.create(pk=424242, workflow="matrix-flow", version="1", created_at=timezone.now())
    people = {role.value: make_user(f"p-{role.value}", role.value) for role in Role}
    people["no role"] = make_user("p-nobody")
    wrong: dict[str, dict[str, int]] = {}
    for name, (method, rule, arguments) in sorted(PAGES.items()):
        if rule == PUBLIC:
            continue
        url = reverse(name, kwargs=arguments)
        client.logout()
        form = PAGE_FORMS.get(name, {})
        answers = {"anonymous": _open(client, method, url, form)}
        for who, user in people.items():
            client.force_login(user)
            answers[who] = _open(client, method, url, form)
        mismatched = [
            who
            for who, status in answers.items()
            if (who == "anonymous" and status != 302)
            or (
                who != "anonymous" and allowed(who, rule) and status in (302, 403) and status != 302
            )
            or (who != "anonymous" and not allowed(who, rule) and status != 403)
            or status >= 500
        ]
        if mismatched:
            wrong[name] = answers
    assert wrong == {}


def _open(client: Any, method: str, url: str, form: dict[str, str]) -> int:
    response = client.get(url) if method == "GET" else client.post(url, form)
    if response.status_code == 302 and "/login/" in response.get("Location", ""):
        return 302
    return 200 if response.status_code == 302 else int(response.status_code)
