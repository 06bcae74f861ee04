"""Machines API, the designer's half: drafts, validation, versions, diffs, import and export.

Instances and their events are the engine's (`/machines/{slug}/instances` is its router's):
nothing here claims a path below a machine other than the ones listed.
"""

from datetime import datetime
from typing import Any, Literal

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from accounts.api_auth import require_capability
from accounts.api_bodies import BodyIn
from accounts.api_refusals import FieldError
from accounts.roles import Capability
from designer import machine_drafts
from designer.api import ProblemOut, PublishIn, ValidationOut, VersionOut
from designer.drafts import DesignerError
from designer.machine_formats import (
    CONTENT_TYPES,
    SUFFIXES,
    FormatError,
    MachineFile,
    export_text,
    import_text,
)
from designer.models import Machine
from engine.machines.publishing import live_versions
from engine.models import MachineVersion

router = Router(tags=["machines"])

Format = Literal["json", "scxml", "xstate"]


class MachineOut(Schema):
    slug: str
    title: str
    description: str
    revision: int = Field(description="The draft's revision")
    published_version: int | None = Field(description="The newest live version (null if none)")
    updated_at: datetime


class MachineCreatedOut(MachineOut):
    problems: list[ProblemOut]


class MachineIn(BodyIn):
    slug: str
    title: str
    description: str = ""
    definition: dict[str, Any] | None = Field(None, description="An empty machine if not given")


class MachineDraftOut(Schema):
    definition: dict[str, Any]
    revision: int
    problems: list[ProblemOut]


class MachineDraftIn(BodyIn):
    definition: dict[str, Any]
    revision: int = Field(description="The revision the edit started from")


class MachineValidateIn(BodyIn):
    definition: dict[str, Any] | None = Field(None, description="Validate this, not the draft")


class MachineVersionOut(VersionOut):
    @staticmethod
    def resolve_author(version: MachineVersion) -> str | None:
        return version.author.username if version.author else None


class MachineVersionDetailOut(MachineVersionOut):
    definition: dict[str, Any]


class MachineImportIn(BodyIn):
    format: Format
    text: str = Field(max_length=1_000_000, description="The file's text")
    slug: str | None = Field(None, description="The file's own name (id, name, slug) if not given")
    title: str | None = None


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _machine(slug: str) -> Machine:
    machine = Machine.objects.filter(slug=slug).first()
    if machine is None:
        raise FieldError(404, "slug", f"no machine called {slug!r}")
    return machine


def _machine_out(machine: Machine, published: dict[str, int] | None = None) -> dict[str, Any]:
    """The machine; `published` maps slugs to their newest version when listing many."""
    if published is None:
        published = machine_drafts.newest_published(machine.slug)
    return {
        "slug": machine.slug,
        "title": machine.title,
        "description": machine.description,
        "revision": machine.revision,
        "published_version": published.get(machine.slug),
        "updated_at": machine.updated_at,
    }


@router.get("/machines", response=list[MachineOut], summary="Every designed state machine")
def list_machines(request: HttpRequest) -> list[dict[str, Any]]:
    require_capability(request, Capability.VIEW)
    published = machine_drafts.newest_published()
    return [_machine_out(machine, published) for machine in Machine.objects.all()]


@router.post(
    "/machines",
    response={201: MachineCreatedOut},
    summary="Create a state machine (an empty draft unless a definition is given)",
)
def create_machine(request: HttpRequest, body: MachineIn) -> Status[Any]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    machine, problems = machine_drafts.create_machine(
        slug=body.slug,
        title=body.title,
        user=_user(request),
        description=body.description,
        definition=body.definition,
    )
    return Status(201, {**_machine_out(machine), "problems": problems})


# Before "/machines/{slug}", which would otherwise take "import" for a slug.
@router.post(
    "/machines/import",
    response={201: MachineCreatedOut},
    summary="Create a machine from a Stepwise JSON, XState v5 JSON or SCXML file",
)
def import_machine(request: HttpRequest, body: MachineImportIn) -> Status[Any]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    try:
        file = import_text(body.format, body.text)
    except FormatError as error:
        raise DesignerError(
            f"the {body.format} file has {len(error.problems)} problem(s)",
            field="text",
            problems=error.problems,
        ) from None
    slug = body.slug or file.slug
    machine, problems = machine_drafts.create_machine(
        slug=slug,
        title=body.title or file.title or slug,
        user=_user(request),
        description=file.description,
        definition=file.definition,
    )
    return Status(201, {**_machine_out(machine), "problems": problems})


@router.get("/machines/{slug}", response=MachineOut, summary="One machine by its slug")
def get_machine(request: HttpRequest, slug: str) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    return _machine_out(_machine(slug))


@router.delete(
    "/machines/{slug}",
    response={204: None},
    summary="Delete a machine; its instances stay on their versions, no new one starts",
)
def delete_machine(request: HttpRequest, slug: str) -> Status[None]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    machine_drafts.delete_machine(_machine(slug))
    return Status(204, None)


@router.get(
    "/machines/{slug}/draft", response=MachineDraftOut, summary="The draft and its problems"
)
def get_draft(request: HttpRequest, slug: str) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    machine = _machine(slug)
    return {
        "definition": machine.draft,
        "revision": machine.revision,
        "problems": machine_drafts.problems_of(machine.draft),
    }


@router.put(
    "/machines/{slug}/draft",
    response=MachineDraftOut,
    summary="Save the draft; a stale revision is a 409, never a lost edit",
)
def put_draft(request: HttpRequest, slug: str, body: MachineDraftIn) -> dict[str, Any]:
    require_capability(request, Capability.EDIT_WORKFLOWS)
    draft = machine_drafts.save_machine_draft(
        _machine(slug), body.definition, body.revision, _user(request)
    )
    return {
        "definition": draft.definition,
        "revision": draft.revision,
        "problems": draft.problems,
    }


@router.post(
    "/machines/{slug}/validate",
    response=ValidationOut,
    summary="Every problem of the draft (or of the definition sent) at once",
)
def validate(
    request: HttpRequest, slug: str, body: MachineValidateIn | None = None
) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    machine = _machine(slug)
    definition = body.definition if body is not None and body.definition is not None else None
    problems = machine_drafts.problems_of(machine.draft if definition is None else definition)
    return {"valid": not problems, "problems": problems}


@router.post(
    "/machines/{slug}/publish",
    response={201: MachineVersionOut},
    summary="Publish the draft as the next immutable version; a draft with problems is refused",
)
def publish(request: HttpRequest, slug: str, body: PublishIn | None = None) -> Status[Any]:
    require_capability(request, Capability.PUBLISH_WORKFLOWS)
    note = body.note if body is not None else ""
    return Status(201, machine_drafts.publish_machine_draft(_machine(slug), _user(request), note))


@router.get(
    "/machines/{slug}/versions", response=list[MachineVersionOut], summary="Published versions"
)
def list_versions(request: HttpRequest, slug: str) -> Any:
    require_capability(request, Capability.VIEW)
    return live_versions(_machine(slug).slug).select_related("author").order_by("-number")


@router.get(
    "/machines/{slug}/versions/{number}",
    response=MachineVersionDetailOut,
    summary="One published version with its definition",
)
def get_version(request: HttpRequest, slug: str, number: int) -> MachineVersion:
    require_capability(request, Capability.VIEW)
    version = machine_drafts.version_of(_machine(slug), number)
    if version is None:
        raise FieldError(404, "number", f"{slug!r} has no version {number}")
    return version


@router.get(
    "/machines/{slug}/diff",
    summary="States and transitions added, removed and changed between two versions (or 'draft')",
)
def diff(
    request: HttpRequest,
    slug: str,
    old: str = Query(..., alias="from", description="A version number or 'draft'"),  # type: ignore[type-arg]
    new: str = Query(..., alias="to", description="A version number or 'draft'"),  # type: ignore[type-arg]
) -> dict[str, Any]:
    require_capability(request, Capability.VIEW)
    return machine_drafts.diff(_machine(slug), old, new)


@router.get(
    "/machines/{slug}/export",
    summary="The draft (or a version) as a Stepwise JSON, XState v5 JSON or SCXML file",
)
def export(
    request: HttpRequest,
    slug: str,
    format: Format = "json",
    version: str = Query("draft", description="A version number or 'draft'"),  # type: ignore[type-arg]
) -> HttpResponse:
    require_capability(request, Capability.VIEW)
    machine = _machine(slug)
    file = MachineFile(
        machine_drafts.definition_at(machine, version, "version"),
        slug=machine.slug,
        title=machine.title,
        description=machine.description,
    )
    try:
        text = export_text(format, file)
    except FormatError as error:
        raise DesignerError(
            f"this machine cannot be written as {format}",
            field="format",
            problems=error.problems,
        ) from None
    response = HttpResponse(text, content_type=f"{CONTENT_TYPES[format]}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{machine.slug}.{SUFFIXES[format]}"'
    return response
