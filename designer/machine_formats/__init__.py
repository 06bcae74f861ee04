"""Machine files: Stepwise's own JSON, XState v5 JSON and SCXML, to export and import.

Export takes a structurally sound definition (its actions may still have problems); import
returns a definition that is then checked like any draft. XState and SCXML carry the plain
subset their modules describe; what falls outside it is refused with a problem naming it.
"""

import json
from typing import Any

from designer.machine_formats.common import FormatError, MachineFile
from designer.machine_formats.scxml import from_scxml, to_scxml
from designer.machine_formats.xstate import from_xstate, to_xstate
from engine.core.machines import Problem, machine_problems

__all__ = ["FORMATS", "FormatError", "MachineFile", "export_text", "import_text"]

FORMATS = ("json", "scxml", "xstate")
NATIVE = "stepwise-machine"
CONTENT_TYPES = {
    "json": "application/json",
    "xstate": "application/json",
    "scxml": "application/xml",
}
SUFFIXES = {"json": "stepwise-machine.json", "xstate": "xstate.json", "scxml": "scxml"}


def export_text(format_name: str, file: MachineFile) -> str:
    """The file's text; raises FormatError when the definition cannot be written in it."""
    problems = machine_problems(file.definition)
    if problems:
        raise FormatError([_in_definition(problem) for problem in problems])
    if format_name == "scxml":
        return to_scxml(file)
    document = to_xstate(file) if format_name == "xstate" else _native(file)
    return json.dumps(document, indent=2) + "\n"


def import_text(format_name: str, text: str) -> MachineFile:
    if format_name == "scxml":
        return from_scxml(text)
    if format_name == "xstate":
        return from_xstate(text)
    return _from_native(text)


def _native(file: MachineFile) -> dict[str, Any]:
    return {
        "format": NATIVE,
        "format_version": 1,
        "slug": file.slug,
        "title": file.title,
        "description": file.description,
        "definition": file.definition,
    }


def _from_native(text: str) -> MachineFile:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise FormatError([Problem(None, "text", f"not JSON: {error}")]) from None
    if not isinstance(document, dict) or document.get("format") != NATIVE:
        raise FormatError([Problem(None, "format", f"not a {NATIVE} export")])
    if document.get("format_version") != 1:
        raise FormatError([Problem(None, "format_version", "only format version 1 is known")])
    definition = document.get("definition")
    if not isinstance(definition, dict):
        raise FormatError([Problem(None, "definition", "the export has no definition")])
    return MachineFile(
        definition,
        slug=_text(document.get("slug")),
        title=_text(document.get("title")),
        description=str(document.get("description") or ""),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _in_definition(problem: Problem) -> Problem:
    where = ".".join(part for part in ("definition", problem.field) if part)
    return Problem(problem.node, where, problem.message)
