"""Fields an input schema marks writeOnly or x-sensitive are masked by path in the input
(nested objects, arrays of objects, $ref, combinators, additionalProperties), and their values
are masked wherever else they appear: equal values, and texts containing them."""

from engine.core.masking import MASK, NO_MASK, PAGE_MASK, Mask, sensitive_paths

SCHEMA = {
    "type": "object",
    "$defs": {"secret": {"type": "string", "x-sensitive": True}},
    "properties": {
        "customer": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "email": {"$ref": "#/$defs/secret"}},
        },
        "cards": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"number": {"writeOnly": True}, "label": {"type": "string"}},
            },
        },
        "pin": {"type": "integer", "x-sensitive": True},
        "notes": {"type": "object", "additionalProperties": {"x-sensitive": True}},
        "either": {"anyOf": [{"type": "object", "properties": {"code": {"writeOnly": True}}}]},
        "open": {"type": "boolean", "x-sensitive": False},
    },
}

INPUT = {
    "customer": {"name": "Ada", "email": "ada@example.com"},
    "cards": [{"number": "4111 1111", "label": "work"}, {"number": "5500 0000", "label": "home"}],
    "pin": 4321,
    "notes": {"a": "left at the door", "b": {"deep": "under the mat"}},
    "either": {"code": "XYZZY"},
    "open": True,
}


def test_the_schema_names_every_sensitive_path() -> None:
    assert sensitive_paths(SCHEMA) == {
        ("customer", "email"),
        ("cards", "*", "number"),
        ("pin",),
        ("notes", "*"),
        ("either", "code"),
    }
    assert sensitive_paths({"type": "object"}) == frozenset()
    assert sensitive_paths(None) == frozenset()
    looping = {"$defs": {"me": {"$ref": "#/$defs/me"}}, "properties": {"x": {"$ref": "#/$defs/me"}}}
    assert sensitive_paths(looping) == frozenset()  # a $ref to itself ends, unmasked


def test_the_input_is_masked_by_path_and_keeps_the_rest() -> None:
    mask = Mask.of(SCHEMA, INPUT)
    assert mask.input(INPUT) == {
        "customer": {"name": "Ada", "email": MASK},
        "cards": [{"number": MASK, "label": "work"}, {"number": MASK, "label": "home"}],
        "pin": MASK,
        "notes": {"a": MASK, "b": MASK},
        "either": {"code": MASK},
        "open": True,
    }
    assert INPUT["customer"]["email"] == "ada@example.com"  # the original is untouched


def test_values_are_masked_wherever_they_appear() -> None:
    mask = Mask.of(SCHEMA, INPUT)
    output = {
        "sent": "ada@example.com",
        "line": "Hello ada@example.com, your card 4111 1111",
        "pin": 4321,
        "count": 3,
        "deep": [{"text": "under the mat"}],
        "name": "Ada",
        "flag": True,
    }
    assert mask.value(output) == {
        "sent": MASK,
        "line": f"Hello {MASK}, your card {MASK}",
        "pin": MASK,
        "count": 3,
        "deep": [{"text": MASK}],
        "name": "Ada",
        "flag": True,
    }
    assert mask.value({"ms": 4321}, numbers=False) == {"ms": 4321}
    assert mask.text("tick-ada@example.com") == f"tick-{MASK}"


def test_short_texts_mask_only_whole_values() -> None:
    mask = Mask.of({"properties": {"code": {"x-sensitive": True}}}, {"code": "ab"})
    assert mask.value({"code": "ab", "word": "abc"}) == {"code": MASK, "word": "abc"}


def test_a_sensitive_root_masks_the_whole_input_and_no_mask_shows_all() -> None:
    mask = Mask.of({"type": "object", "writeOnly": True}, {"a": "secret"})
    assert mask.input({"a": "secret"}) == MASK
    assert mask.value("the secret") == f"the {MASK}"
    assert NO_MASK.input(INPUT) is INPUT
    assert NO_MASK.value(INPUT) is INPUT
    page = Mask.of(SCHEMA, INPUT, token=PAGE_MASK)
    assert page.input(INPUT)["pin"] == "•••• (sensitive)"


def test_an_input_that_does_not_follow_the_schema_is_masked_as_far_as_it_does() -> None:
    mask = Mask.of(SCHEMA, {"customer": "just text", "cards": {"number": "1234 5678"}})
    assert mask.input({"customer": "just text", "cards": {"number": "1234 5678"}}) == {
        "customer": "just text",
        "cards": {"number": "1234 5678"},
    }
