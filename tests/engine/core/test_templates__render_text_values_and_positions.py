"""Templates fill `{{ expr }}` parts into text, keep a lone part's value, render nested values
and place errors at their offset in the whole template."""

import pytest

from engine.core.expressions import ExpressionError
from engine.core.templates import compile_template, render_template, render_value

ORDER = {
    "amount": 1500,
    "customer": {"name": "Alice Smith", "email": "alice@example.com"},
    "items": [{"sku": "A-1", "qty": 2, "price": 9.5}, {"sku": "B-2", "qty": 1, "price": 20.0}],
    "tags": ["vip", "eu"],
    "note": None,
}


def test_a_lone_template_part_keeps_its_value_type() -> None:
    """A template that is exactly one `{{ expr }}` (whitespace around allowed) returns the value."""
    assert render_template("{{ input.items.map(i, i.qty) }}", {"input": ORDER}) == [2, 1]
    assert render_template("  {{ input.amount }}\n", {"input": ORDER}) == 1500
    assert render_template("{{ input.note }}", {"input": ORDER}) is None


def test_template_parts_are_filled_in_as_text() -> None:
    """Mixed templates render null as empty, bools as true/false and maps as compact JSON."""
    text = render_template(
        "{{ input.customer.name }} ({{ input.note }}) vip={{ 'vip' in input.tags }} "
        "{{ {'n': input.amount} }}",
        {"input": ORDER},
    )
    assert text == 'Alice Smith () vip=true {"n":1500}'


def test_text_without_parts_and_stray_closing_braces_stay_literal() -> None:
    """Plain text comes back unchanged and a `}}` outside a part is ordinary text."""
    assert render_template("no parts here", {}) == "no parts here"
    assert render_template('{"id": {{ input.amount }}}}', {"input": ORDER}) == '{"id": 1500}}'


def test_render_value_renders_templates_inside_nested_structures() -> None:
    """render_value renders strings inside dicts and lists and leaves other leaves alone."""
    body = {"to": "{{ input.customer.email }}", "lines": ["{{ input.items }}", 7, None]}
    assert render_value(body, {"input": ORDER}) == {
        "to": "alice@example.com",
        "lines": [ORDER["items"], 7, None],
    }


def test_render_value_errors_name_the_path_inside_the_field() -> None:
    """An error deep inside a rendered value names the node and the path to the failing string."""
    with pytest.raises(ExpressionError) as error:
        render_value({"lines": ["ok", {"x": "{{ input.nope }}"}]}, {"input": ORDER}, node="http")
    assert str(error.value) == 'node "http", field "lines[1].x", at 3: no such key: \'nope\''


def test_an_unclosed_template_part_reports_its_position() -> None:
    """An opening `{{` without its `}}` is an error at the offset of the `{{`."""
    with pytest.raises(ExpressionError) as error:
        compile_template("Dear {{ input.customer.name", field="subject")
    assert error.value.position == 5
    assert error.value.field == "subject"


def test_a_syntax_error_in_a_template_part_is_placed_within_the_template() -> None:
    """Positions of errors inside a part are offsets into the whole template."""
    with pytest.raises(ExpressionError) as error:
        compile_template("Total: {{ input.amount * }}")
    assert error.value.position == 24
    assert compile_template("{{ a.x }} and {{ b }}").variables == {"a", "b"}
