"""What the designer pages' forms post, read into the arguments the actions take.

Plain functions rather than Django forms: the actions in designer/drafts.py already validate
and name the field at fault, so the pages only gather strings and put errors back on inputs.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from designer.drafts import DesignerError, check_parameters
from designer.models import Workflow
from engine.core.durations import check_run_timeout

PARAMETER_PREFIX = "param."
# Far more than a template needs, but a bound: the row count is posted, so it can be forged.
MAX_PARAMETER_ROWS = 500
_PARAMETER_ERROR = re.compile(r"^parameters\[(\d+)\]\.(\w+)$")


@dataclass(frozen=True)
class ParameterField:
    """One input of the new-workflow form, for one parameter of the chosen template."""

    name: str
    title: str
    value: str
    required: bool
    error: str = ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def parameter_values(template: Workflow, posted: QueryDict) -> dict[str, str]:
    """The values typed for the template's parameters; an empty input means "use the default"."""
    values = {}
    for parameter in template.parameters:
        typed = posted.get(PARAMETER_PREFIX + parameter["name"], "").strip()
        if typed:
            values[parameter["name"]] = typed
    return values


def parameter_fields(
    template: Workflow, posted: QueryDict | None = None, error: DesignerError | None = None
) -> list[ParameterField]:
    """The template's parameters as inputs: the user's values if posted, else the defaults."""
    fields = []
    for parameter in template.parameters:
        name, default = parameter["name"], parameter.get("default")
        key = PARAMETER_PREFIX + name
        value = posted.get(key, "") if posted is not None and key in posted else _text(default)
        fields.append(
            ParameterField(
                name=name,
                title=parameter.get("title") or name,
                value=value,
                required=default is None,
                error=error.message if error and error.field == f"parameters.{name}" else "",
            )
        )
    return fields


@dataclass(frozen=True)
class ParameterRow:
    """One editable row of the settings page; `index` is its position in the form."""

    index: int
    name: str = ""
    title: str = ""
    default: str = ""
    remove: bool = False
    error_on: str = ""

    @property
    def blank(self) -> bool:
        return not (self.name.strip() or self.title.strip() or self.default.strip())


def rows_of(parameters: list[dict[str, Any]]) -> list[ParameterRow]:
    """The saved parameters as rows, and an empty one to add another."""
    rows = [
        ParameterRow(
            index,
            _text(parameter.get("name")),
            _text(parameter.get("title")),
            _text(parameter.get("default")),
        )
        for index, parameter in enumerate(parameters)
    ]
    return [*rows, ParameterRow(len(rows))]


def posted_rows(posted: QueryDict) -> list[ParameterRow]:
    try:
        count = int(posted.get("parameter_rows", "0"))
    except ValueError:
        count = 0
    if count > MAX_PARAMETER_ROWS:
        raise DesignerError(f"at most {MAX_PARAMETER_ROWS} rows", field="parameters")
    return [
        ParameterRow(
            index,
            posted.get(f"parameters-{index}-name", "").strip(),
            posted.get(f"parameters-{index}-title", "").strip(),
            posted.get(f"parameters-{index}-default", "").strip(),
            remove=bool(posted.get(f"parameters-{index}-remove")),
        )
        for index in range(max(0, count))
    ]


def parameters_from_rows(
    rows: list[ParameterRow], saved: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The parameters the rows describe, checked; an error names the row as the form shows it.

    Removed and blank rows are left out, so a bad row's place in the checked list can differ
    from its place on the page: the error is moved back onto the row the user sees.
    """
    saved_defaults = {parameter["name"]: parameter.get("default") for parameter in saved}

    def default_of(row: ParameterRow) -> Any:
        # An input only holds text: a default the user left as shown keeps its stored value, so
        # a number set through the API stays a number and "" stays a value, not "required".
        if row.name in saved_defaults and row.default == _text(saved_defaults[row.name]):
            return saved_defaults[row.name]
        return row.default or None

    kept = [row for row in rows if not row.remove and not row.blank]
    parameters = [
        {"name": row.name, "title": row.title, "default": default_of(row)} for row in kept
    ]
    try:
        return check_parameters(parameters)
    except DesignerError as error:
        found = _PARAMETER_ERROR.match(error.field or "")
        if found is None:
            raise
        row = kept[int(found.group(1))]
        raise DesignerError(
            error.message, field=f"parameters[{row.index}].{found.group(2)}"
        ) from None


def rows_with_error(rows: list[ParameterRow], error: DesignerError) -> list[ParameterRow]:
    """The posted rows again, the faulty input marked, and an empty row if none is left."""
    found = _PARAMETER_ERROR.match(error.field or "")
    marked = [
        ParameterRow(row.index, row.name, row.title, row.default, row.remove, found.group(2))
        if found and int(found.group(1)) == row.index
        else row
        for row in rows
    ]
    if not marked or not marked[-1].blank:
        marked.append(ParameterRow(len(marked)))
    return marked


# The units of the duration input, as the canvas's DurationInput offers them (seconds to weeks).
DURATION_UNITS: tuple[tuple[str, str, int], ...] = (
    ("s", "seconds", 1),
    ("m", "minutes", 60),
    ("h", "hours", 3_600),
    ("d", "days", 86_400),
    ("w", "weeks", 604_800),
)
_UNIT_SECONDS = {unit: size for unit, _, size in DURATION_UNITS}
TIMEOUT_RANGE = "more than 0 and at most 365 days"


@dataclass(frozen=True)
class DurationShown:
    """A duration as the form shows it: an amount and one of DURATION_UNITS."""

    amount: str
    unit: str


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def duration_shown(seconds: float | None) -> DurationShown:
    """The largest unit the duration is a whole number of (5 days, not 120 hours); empty for
    None, in days, the unit a run timeout is most often given in."""
    if seconds is None:
        return DurationShown("", "d")
    for unit, _, size in reversed(DURATION_UNITS):
        if seconds >= size and seconds % size == 0:
            return DurationShown(_number_text(seconds / size), unit)
    return DurationShown(_number_text(seconds), "s")


def posted_duration(posted: QueryDict, name: str) -> DurationShown:
    return DurationShown(posted.get(name, "").strip(), posted.get(f"{name}_unit", "d"))


def timeout_from_form(shown: DurationShown, field: str = "timeout") -> float | None:
    """Seconds from the run timeout's amount and unit, None when the amount is empty; refused,
    naming the field, when the amount is not a number or out of range."""
    if shown.amount == "":
        return None
    size = _UNIT_SECONDS.get(shown.unit)
    if size is None:
        raise DesignerError("a unit of seconds, minutes, hours, days or weeks", field=field)
    try:
        amount = float(shown.amount)
    except ValueError:
        raise DesignerError(
            f"{shown.amount!r} is not a number; give a number with its unit, or leave it empty "
            "for no run timeout",
            field=field,
        ) from None
    try:
        return check_run_timeout(amount * size)
    except ValueError:
        raise DesignerError(
            f"{TIMEOUT_RANGE} (leave it empty for no run timeout)", field=field
        ) from None
