"""The run page's actions: pause, resume, re-run, fork, send the event it waits for, decide its
tasks. Each parses and authorises, then calls the engine's action (the API's own rules)."""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from accounts.roles import Capability, require
from engine.api.tasks import DecideIn
from engine.human import TaskError, decide_task
from engine.inbound.events import EventInputError, deliver_event
from engine.models import HumanTask, Run, RunStatus, Wait, WaitStatus
from engine.runtime.forking import KEEP_INPUT, ForkRefused, fork_run, rerun_run
from engine.runtime.runs import pause_run, resume_run
from monitoring.htmx import HtmxHttpRequest
from monitoring.inbox import PAST_TENSE, posted_form
from monitoring.views import run_control

MAX_JSON_CHARS = 1_000_000
"""JSON typed into a form; the API takes larger bodies (up to the request limit)."""


def _run_or_404(run_id: int) -> Run:
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404(f"no run {run_id}")
    return run


def _back(run_id: int) -> HttpResponseRedirect:
    # Post/redirect/get: reloading the page must not send the action again.
    return HttpResponseRedirect(reverse("run-detail", args=[run_id]), status=303)


def _refused(
    request: HttpRequest, run: Run, form: str, field: str, message: str, values: dict[str, str]
) -> HttpResponse:
    """The form again, with what was typed and the field at fault; nothing was changed."""
    context = {"run": run, "form": form, "field": field, "message": message, "values": values}
    return render(request, "monitoring/run_action_refused.html", context, status=422)


def _parse_json(text: str, field: str) -> tuple[Any, str | None]:
    if len(text) > MAX_JSON_CHARS:
        return None, f"at most {MAX_JSON_CHARS:,} characters"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as bad:
        return None, f"not valid JSON ({bad.msg} at line {bad.lineno}, column {bad.colno})"


@require_POST
def pause_run_page(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """Pause a run before its next step, as POST /api/runs/{id}/pause does."""
    return run_control(
        request,
        run_id,
        Capability.CANCEL_RUNS,
        pause_run,
        "paused: it stops before its next step",
        redirect_status=303,
    )


@require_POST
def resume_run_page(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """Resume a paused run, as POST /api/runs/{id}/resume does."""
    return run_control(
        request, run_id, Capability.CANCEL_RUNS, resume_run, "resumed", redirect_status=303
    )


@require_POST
def rerun_run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    """A new run of the same version with the input typed here, as POST …/rerun does."""
    require(request.user, Capability.START_RUNS)
    run = _run_or_404(run_id)
    text = request.POST.get("input", "")
    values = {"input": text}
    new_input, problem = _parse_json(text, "input")
    if problem is not None:
        return _refused(request, run, "rerun", "input", problem, values)
    user = request.user if isinstance(request.user, User) else None
    try:
        created = rerun_run(run_id, new_input, user=user)
    except ForkRefused as refused:
        return _refused(request, run, "rerun", refused.field, refused.message, values)
    messages.success(request, f"Run #{created.pk} re-runs run #{run_id} with the input you gave.")
    return HttpResponseRedirect(reverse("run-detail", args=[created.pk]), status=303)


@require_POST
def fork_run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    """A new run from one of this run's steps, as POST …/fork does; empty input keeps it."""
    require(request.user, Capability.START_RUNS)
    run = _run_or_404(run_id)
    text = request.POST.get("input", "").strip()
    values = {"input": text, "from_seq": request.POST.get("from_seq", "")}
    try:
        from_seq = int(values["from_seq"])
    except ValueError:
        return _refused(request, run, "fork", "from_seq", "choose a step", values)
    new_input: Any = KEEP_INPUT
    if text:
        new_input, problem = _parse_json(text, "input")
        if problem is not None:
            return _refused(request, run, "fork", "input", problem, values)
    user = request.user if isinstance(request.user, User) else None
    try:
        created = fork_run(run_id, from_seq, input=new_input, user=user)
    except ForkRefused as refused:
        return _refused(request, run, "fork", refused.field, refused.message, values)
    messages.success(request, f"Run #{created.pk} forks run #{run_id} from step {from_seq}.")
    return HttpResponseRedirect(reverse("run-detail", args=[created.pk]), status=303)


@require_POST
def send_run_event(request: HttpRequest, run_id: int) -> HttpResponse:
    """Deliver an event this run waits for, as POST /api/events does (it reaches every run
    and trigger it matches, as any event does)."""
    require(request.user, Capability.START_RUNS)
    run = _run_or_404(run_id)
    event_type = request.POST.get("type", "")
    text = request.POST.get("data", "").strip() or "{}"
    values = {"type": event_type, "data": text}
    waited = set(
        Wait.objects.filter(run=run, status=WaitStatus.WAITING).values_list("event_type", flat=True)
    )
    if run.status != RunStatus.WAITING or not waited:
        messages.warning(request, "Nothing sent: the run no longer waits for an event.")
        return _back(run_id)
    if event_type not in waited:
        return _refused(
            request, run, "event", "type", f"the run waits for {', '.join(sorted(waited))}", values
        )
    payload, problem = _parse_json(text, "data")
    if problem is not None:
        return _refused(request, run, "event", "data", problem, values)
    try:
        delivery = deliver_event(
            event_type, payload, source=f"run page ({request.user.get_username()})"
        )
    except EventInputError as bad:
        field = "data" if bad.field == "payload" else bad.field
        return _refused(request, run, "event", field, bad.message, values)
    woke = run_id in delivery.woken_runs
    messages.success(
        request,
        f"Event {event_type} sent"
        + (" and the run goes on." if woke else ", but it did not match what the run waits for."),
    )
    return _back(run_id)


@require_POST
def decide_run_task(request: HttpRequest, run_id: int, task_id: int) -> HttpResponse:
    """Decide one of this run's tasks assigned to me, by the inbox's rules (engine.human checks
    who may decide; the form only says what)."""
    require(request.user, Capability.VIEW)
    assert isinstance(request.user, User)
    if not HumanTask.objects.filter(pk=task_id, run_id=run_id).exists():
        raise Http404("no such task in this run")
    decision = request.POST.get("decision", "")
    comment = request.POST.get("comment", "")
    on_behalf_of = request.POST.get("on_behalf_of") or None
    form = posted_form(request.POST)
    try:
        DecideIn(decision=decision, comment=comment, on_behalf_of=on_behalf_of, form=form)
        task = decide_task(task_id, request.user, decision, comment, on_behalf_of, form)
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        messages.error(request, f"Nothing decided: {where}: {problem['msg'].lower()}.")
        return _back(run_id)
    except TaskError as refused:
        where = f"{refused.field}: " if refused.field else ""
        messages.error(request, f"Nothing decided: {where}{refused.message}.")
        return _back(run_id)
    messages.success(request, f"You {PAST_TENSE[decision]} “{task.title}”.")
    return _back(run_id)
