"""Engine API: re-running a run with edited input and forking it from a step
(engine.runtime.forking; docs/run-actions.md)."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja import Field, Router, Status
from pydantic import ValidationError

from accounts.api_auth import require_capability
from accounts.api_bodies import BodyIn
from accounts.api_refusals import RefusalOut, first_problem, refusal
from accounts.roles import Capability
from engine.api.runs import RunDetailOut, run_shown_to
from engine.models import Run
from engine.runtime.forking import KEEP_INPUT, ForkRefused, fork_run, rerun_run

router = Router(tags=["runs"])


class FieldErrorOut(RefusalOut):
    message: str | None = Field(default=None, description="What is wrong, without the field")


class RerunIn(BodyIn):
    input: Any = Field(
        description="The new run's input, checked against the workflow's input schema"
    )


class ForkIn(BodyIn):
    from_seq: int = Field(ge=0, description="The position to execute from (a step's `seq`)")
    branch: int = Field(
        default=0,
        ge=0,
        description="Must be 0: a step inside a parallel group is forked with its group",
    )
    input: Any = Field(default=None, description="New input; leave it out to keep the original's")


_FORK_RESPONSES = {
    201: RunDetailOut,
    404: FieldErrorOut,
    409: FieldErrorOut,
    422: FieldErrorOut,
    429: FieldErrorOut,
}


def _refusal(status: int, field: str, message: str) -> Status[Any]:
    return Status(status, refusal(field, message, message=message))


def _body(request: HttpRequest, schema: type[BodyIn]) -> BodyIn | Status[Any]:
    """The JSON body, or a 422 naming the first field it gets wrong."""
    if request.content_type != "application/json":
        return _refusal(422, "body", "send a JSON object (Content-Type: application/json)")
    try:
        return schema.model_validate_json(request.body or b"{}")
    except ValidationError as invalid:
        return _refusal(422, *first_problem(invalid))


def _new_run(request: HttpRequest, create: Callable[[User | None], Run]) -> Status[Any]:
    """Called once the capability was checked (before the body, so a stranger learns nothing)."""
    user = request.user if isinstance(request.user, User) else None
    try:
        run = create(user)
    except ForkRefused as refused:
        # The engine calls the original "run"; here it is the path parameter that named it.
        field = "run_id" if refused.field == "run" else refused.field
        return _refusal(refused.status, field, refused.message)
    return Status(201, run_shown_to(request, run))


@router.post(
    "/runs/{run_id}/rerun",
    response=_FORK_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RerunIn.model_json_schema()}},
        }
    },
    tags=["runs"],
    summary="Start the run again from the start with edited input: a new run of the same "
    "version, linked to it (`forked_from_id`)",
)
def rerun(request: HttpRequest, run_id: int) -> Status[Any]:
    require_capability(request, Capability.START_RUNS)
    body = _body(request, RerunIn)
    if isinstance(body, Status):
        return body
    if "input" not in body.model_fields_set:
        return _refusal(422, "input", "Field required")
    assert isinstance(body, RerunIn)
    return _new_run(request, lambda user: rerun_run(run_id, body.input, user=user))


@router.post(
    "/runs/{run_id}/fork",
    response=_FORK_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ForkIn.model_json_schema()}},
        }
    },
    tags=["runs"],
    summary="A new run of an ended run's version that reuses its journal before `from_seq` "
    "and executes from there, optionally with new input (docs/run-actions.md)",
)
def fork(request: HttpRequest, run_id: int) -> Status[Any]:
    require_capability(request, Capability.START_RUNS)
    body = _body(request, ForkIn)
    if isinstance(body, Status):
        return body
    assert isinstance(body, ForkIn)
    if body.branch:
        return _refusal(
            422,
            "branch",
            f"a step inside a parallel group cannot be forked alone: fork from its group "
            f"(from_seq {body.from_seq}, branch 0), which runs the whole group again",
        )
    new_input = body.input if "input" in body.model_fields_set else KEEP_INPUT
    return _new_run(
        request, lambda user: fork_run(run_id, body.from_seq, input=new_input, user=user)
    )
