"""Config checks of one node: its schema, its CEL expressions and templates, in plain words.

Schema errors are reworded for canvas users (`must be a whole number, not text`); the same
wording serves the document shape (`engine.graph.validate.shape`).
"""

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from engine.core.durations import DURATION_KEYWORD, duration_bound_problem
from engine.core.expressions import ExpressionError, compile_expression
from engine.core.resilience import BreakerSpec, RateLimitSpec, ResilienceError
from engine.core.retry import retry_from_config
from engine.core.templates import Template, compile_template
from engine.graph.format import NODE_ID_PATTERN
from engine.graph.nodes.base import ERROR_HANDLING_SCHEMA, NodeType, Problem
from engine.graph.nodes.library import all_node_types
from engine.outbound.secrets import ONLY_IN_REQUESTS, ONLY_WHOLE, is_whole_reference
from engine.outbound.secrets import SCOPE_NAME as SECRETS


def _duration_bounds(
    _validator: Any, bounds: Any, instance: Any, _schema: Any
) -> Iterator[ValidationError]:
    problem = duration_bound_problem(instance, bounds)
    if problem is not None:
        yield ValidationError(problem)


# Durations such as `99999999w` match their pattern yet overflow every date: the schema's
# `x-duration` keyword bounds them in seconds, whichever way they are written.
# jsonschema's extend() is untyped; what it returns is a Draft202012Validator with one more keyword.
ConfigValidator: type[Draft202012Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {DURATION_KEYWORD: _duration_bounds}
)

# Built once per node type: building a validator costs far more than running it.
_config_validators: dict[str, tuple[NodeType, Draft202012Validator]] = {}
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_JSON_TYPES = {
    "object": "an object",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}


def config_schema(node_type: NodeType) -> dict[str, Any]:
    """The schema a config must match: the type's, plus retry/timeout/compensation if wanted."""
    schema = node_type.config_schema
    if not node_type.error_handling:
        return schema
    properties = {**ERROR_HANDLING_SCHEMA, **schema.get("properties", {})}
    return {**schema, "properties": properties}


def resilience_problems(node_id: str, config: Mapping[str, Any]) -> list[Problem]:
    """What the schema cannot say of a node's breaker and rate limit (e.g. a key template that
    does not compile), each naming its field."""
    found = []
    for key, kind in (("circuit_breaker", BreakerSpec), ("rate_limit", RateLimitSpec)):
        if config.get(key) is None:
            continue
        try:
            kind.from_config(config[key])
        except ResilienceError as wrong:
            found.append(Problem(node_id, f"config.{key}.{wrong.field}", wrong.message))
    retry = config.get("retry")
    if isinstance(retry, Mapping) and retry.get("retry_on") and retry.get("non_retryable"):
        found.append(
            Problem(
                node_id, "config.retry.retry_on", "give either retry_on or non_retryable, not both"
            )
        )
    if isinstance(retry, Mapping) and {"initial_delay", "max_delay"} <= set(retry):
        # Only the waits: the whole option would raise for the two lists of kinds named above.
        policy = retry_from_config({key: retry[key] for key in ("initial_delay", "max_delay")})
        if policy.max_delay < policy.initial_delay:
            found.append(
                Problem(
                    node_id, "config.retry.max_delay", "must not be shorter than the first wait"
                )
            )
    return found


def check_config(
    node_type: NodeType, node_id: str, config: Mapping[str, Any]
) -> tuple[list[Problem], bool]:
    """Schema, expression and template problems of a config, and whether its shape is valid."""
    problems = schema_problems(_config_validator(node_type), config, "config", node_id)
    config_ok = not problems
    if config_ok and node_type.error_handling:
        problems += resilience_problems(node_id, config)
    reported = {problem.field for problem in problems}
    for path in node_type.expressions:
        for field, value in values_at(config, path):
            if value is None or field in reported:
                continue
            try:
                expression = compile_expression(value)
            except ExpressionError as exc:
                problems.append(Problem(node_id, field, _expression_message(exc)))
                continue
            if SECRETS in expression.variables:
                problems.append(Problem(node_id, field, ONLY_IN_REQUESTS))
    for path in node_type.templates:
        for field, value in values_at(config, path):
            for leaf_field, text in _strings_in(value, field):
                if leaf_field in reported:
                    continue
                try:
                    template = compile_template(text)
                except ExpressionError as exc:
                    problems.append(Problem(node_id, leaf_field, _expression_message(exc)))
                    continue
                secret_problem = _secret_use(node_type, field, template)
                if secret_problem:
                    problems.append(Problem(node_id, leaf_field, secret_problem))
    return problems, config_ok


def _secret_use(node_type: NodeType, field: str, template: Template) -> str | None:
    """Secrets only as whole templates, only in the fields a node sends them in."""
    using = [part for part in template.expressions if SECRETS in part.variables]
    if not using:
        return None
    top = field.removeprefix("config.").split(".")[0].split("[")[0]
    if top not in node_type.secret_fields:
        return ONLY_IN_REQUESTS
    if not all(is_whole_reference(part.source) for part in using):
        return ONLY_WHOLE
    return None


def _config_validator(node_type: NodeType) -> Draft202012Validator:
    cached = _config_validators.get(node_type.type)
    if cached is not None and cached[0] is node_type:
        return cached[1]
    # Schemas are checked against the metaschema by the test suite, not here: it would cost
    # ~5 ms per type on the first validation of every process.
    validator = ConfigValidator(config_schema(node_type))
    _config_validators[node_type.type] = (node_type, validator)
    return validator


def unknown_type(type_name: str) -> str:
    known = [node_type.type for node_type in all_node_types()]
    close = difflib.get_close_matches(type_name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown node type '{type_name}'{hint}"


def _expression_message(exc: ExpressionError) -> str:
    # The problem names node and field already; str(exc) would repeat them.
    if exc.position is None:
        return exc.message
    return f"{exc.message} (at character {exc.position})"


# --- config paths and schema errors -------------------------------------------------------


def _field(prefix: str, step: str | int) -> str:
    if isinstance(step, int):
        return f"{prefix}[{step}]"
    if not _PLAIN_KEY.match(step):
        return f"{prefix}[{json.dumps(step)}]"
    return f"{prefix}.{step}" if prefix else step


def values_at(config: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """(field, value) for each value a path such as `cases[].when` or `values.*` names."""
    return _walk(config, path.split("."), "config")


def _walk(value: Any, segments: list[str], field: str) -> Iterator[tuple[str, Any]]:
    if not segments:
        yield field, value
        return
    head, rest = segments[0], segments[1:]
    if head == "*":
        if isinstance(value, Mapping):
            for key, item in value.items():
                yield from _walk(item, rest, _field(field, str(key)))
        elif isinstance(value, list):
            for position, item in enumerate(value):
                yield from _walk(item, rest, _field(field, position))
        return
    each = head.endswith("[]")
    key = head.removesuffix("[]")
    if not isinstance(value, Mapping) or key not in value:
        return
    child, child_field = value[key], _field(field, key)
    if not each:
        yield from _walk(child, rest, child_field)
    elif isinstance(child, list):
        for position, item in enumerate(child):
            yield from _walk(item, rest, _field(child_field, position))


def _strings_in(value: Any, field: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield field, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings_in(item, _field(field, str(key)))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _strings_in(item, _field(field, position))


def schema_problems(
    validator: Draft202012Validator, instance: object, prefix: str, node: str | None
) -> list[Problem]:
    errors = sorted(validator.iter_errors(instance), key=_error_order)
    return [
        Problem(node, field or None, message)
        for error in errors
        for field, message in _describe(error, prefix)
    ]


def _error_order(error: ValidationError) -> tuple[Any, ...]:
    path = tuple(
        (0, step, "") if isinstance(step, int) else (1, 0, step) for step in error.absolute_path
    )
    return (path, str(error.validator), error.message)


def _describe(error: ValidationError, prefix: str) -> list[tuple[str, str]]:
    """(field, message) pairs that say what is wrong in words a canvas user understands."""
    field = prefix
    for step in error.absolute_path:
        field = _field(field, step)
    kind, expected, instance = _parts(error)
    if kind == "required":
        missing = [key for key in expected if isinstance(instance, Mapping) and key not in instance]
        key = next((key for key in missing if error.message.startswith(repr(key))), None)
        if key is not None:
            return [(_field(field, key), "is required")]
    if kind == "additionalProperties" and isinstance(instance, Mapping):
        schema: Any = error.schema
        allowed = sorted(schema.get("properties", {}))
        patterns = [re.compile(pattern) for pattern in schema.get("patternProperties", {})]
        extra = [
            key
            for key in instance
            if key not in allowed and not any(pattern.search(key) for pattern in patterns)
        ]
        hint = f" (known keys: {', '.join(allowed)})" if allowed else ""
        return [(_field(field, key), f"unknown key '{key}'{hint}") for key in extra]
    if kind in ("anyOf", "oneOf") and error.context:
        return _describe_alternatives(error, field, prefix)
    return [(field, _message(error))]


def _describe_alternatives(
    error: ValidationError, field: str, prefix: str
) -> list[tuple[str, str]]:
    """The errors of the first alternative the value has the right type for, else the types."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    for _, errors in sorted(branches.items()):
        if not any(sub.validator == "type" and not sub.relative_path for sub in errors):
            return [
                pair for sub in sorted(errors, key=_error_order) for pair in _describe(sub, prefix)
            ]
    alternatives: Any = error.validator_value
    wanted = [
        name
        for branch in alternatives
        for name in as_list(branch.get("type") if isinstance(branch, Mapping) else None)
    ]
    if wanted:
        names = " or ".join(dict.fromkeys(_JSON_TYPES.get(name, name) for name in wanted))
        return [(field, f"must be {names}, not {json_type(error.instance)}")]
    closest = best_match(error.context)
    return _describe(closest, prefix) if closest is not None else [(field, _message(error))]


def as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _parts(error: ValidationError) -> tuple[str, Any, Any]:
    """The failed keyword, its value in the schema and the instance, loosely typed."""
    return str(error.validator), error.validator_value, error.instance


def _message(error: ValidationError) -> str:
    kind, expected, instance = _parts(error)
    if kind == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        names = " or ".join(_JSON_TYPES.get(name, name) for name in wanted)
        return f"must be {names}, not {json_type(instance)}"
    if kind == "enum":
        return "must be one of " + ", ".join(json.dumps(option) for option in expected)
    if kind == "const":
        return f"must be {json.dumps(expected)}"
    if kind == "pattern":
        if expected == NODE_ID_PATTERN:
            return (
                "must start with a letter and hold only letters, digits, '_' and '-' "
                "(64 characters at most)"
            )
        # A schema may say what its pattern means, in words people read.
        said = error.schema.get("x-pattern-message") if isinstance(error.schema, Mapping) else None
        return str(said) if said else f"must match the pattern {expected}"
    if kind == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters"
    if kind == "maxLength":
        return f"must be at most {expected} characters (it has {len(instance)})"
    if kind == "minimum":
        return f"must be at least {expected}"
    if kind == "maximum":
        return f"must be at most {expected}"
    if kind == "exclusiveMinimum":
        return f"must be more than {expected}"
    if kind == "exclusiveMaximum":
        return f"must be less than {expected}"
    if kind == "minItems":
        return f"must hold at least {expected} item{'s' if expected != 1 else ''}"
    if kind == "maxItems":
        return f"must hold at most {expected} items (it has {len(instance)})"
    if kind == "uniqueItems":
        return "must not repeat items"
    if kind == "oneOf":
        return "matches more than one of the allowed forms; make it match exactly one"
    return str(error.message)


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__
