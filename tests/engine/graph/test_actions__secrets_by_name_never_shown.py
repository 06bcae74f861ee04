"""Secrets are named in graphs, read from STEPWISE_SECRET_<NAME> only when needed, available
only to HTTP request fields, and redacted (also URL- and JSON-escaped) from what is shown."""

import pytest

from engine.core.errors import NonRetryableError
from engine.core.expressions import ExpressionError
from engine.graph.nodes import email
from engine.graph.nodes.base import NodeContext
from engine.outbound.secrets import (
    REDACTED,
    SecretMissing,
    env_name,
    get_secret,
    redact,
    redact_value,
    referenced_secrets,
    resolve_secrets,
)

VALUE = 'p@ss w/rd"1'


def test_names_are_case_insensitive_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """`crm_token` and `CRM_TOKEN` both read STEPWISE_SECRET_CRM_TOKEN."""
    monkeypatch.setenv("STEPWISE_SECRET_CRM_TOKEN", VALUE)
    assert env_name("crm_token") == "STEPWISE_SECRET_CRM_TOKEN"
    assert get_secret("crm_token") == get_secret("CRM_TOKEN") == VALUE
    assert resolve_secrets(["crm_token"]) == {"crm_token": VALUE}


def test_a_missing_or_empty_secret_is_a_clear_non_retryable_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SecretMissing names the secret and the variable to set; it is never retried."""
    monkeypatch.delenv("STEPWISE_SECRET_ABSENT", raising=False)
    monkeypatch.setenv("STEPWISE_SECRET_EMPTY", "")
    for name, variable in (
        ("absent", "STEPWISE_SECRET_ABSENT"),
        ("Empty", "STEPWISE_SECRET_EMPTY"),
    ):
        with pytest.raises(SecretMissing) as raised:
            get_secret(name)
        assert isinstance(raised.value, NonRetryableError)
        assert variable in str(raised.value)
        assert raised.value.name == name


@pytest.mark.parametrize("name", ["my-key", "", "a.b", "x" * 101, "ключ"])
def test_names_are_letters_digits_and_underscores(name: str) -> None:
    """Anything else is refused before the environment is read."""
    with pytest.raises(NonRetryableError, match="not a secret name"):
        get_secret(name)


def test_references_are_found_in_nested_templates() -> None:
    """`secrets.NAME` and `secrets['NAME']` are found anywhere inside a value; other names
    that merely end in "secrets" are not references."""
    value = {
        "url": "https://x/{{ secrets.path_token }}",
        "headers": {"A": "Bearer {{ secrets['API_KEY'] }}", "B": "{{ input.secrets.nope }}"},
        "body": ["{{ mysecrets.nope }}", {"deep": "{{secrets . spaced}}"}],
    }
    assert referenced_secrets(value) == {"path_token", "API_KEY", "spaced"}
    assert referenced_secrets({"n": 1, "t": "no templates"}) == set()


def test_redact_hides_plain_url_and_json_escaped_forms() -> None:
    """Every way a value commonly reappears in text is replaced by the marker."""
    text = f'raw {VALUE} url p%40ss%20w%2Frd%221 form p%40ss+w%2Frd%221 json p@ss w/rd\\"1'
    assert redact(text, [VALUE]) == f"raw {REDACTED} url {REDACTED} form {REDACTED} json {REDACTED}"
    assert redact("nothing here", {"name": VALUE}) == "nothing here"


def test_redact_value_walks_json_including_keys() -> None:
    """Keys and values at any depth are redacted; other leaves stay."""
    value = {"echo": [f"Bearer {VALUE}", 3, None], VALUE: {"ok": True}}
    assert redact_value(value, {"t": VALUE}) == {
        "echo": [f"Bearer {REDACTED}", 3, None],
        REDACTED: {"ok": True},
    }
    assert redact_value(value, {}) is value


def test_other_nodes_have_no_secrets_in_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the HTTP node's request fields see `secrets`: an email subject cannot print one."""
    monkeypatch.setenv("STEPWISE_SECRET_API_KEY", VALUE)
    context = NodeContext(
        node_id="mail",
        config={"to": ["ada@example.com"], "subject": "{{ secrets.API_KEY }}", "body": "x"},
        scope={"input": {}},
    )
    with pytest.raises(ExpressionError, match="undefined variable 'secrets'"):
        email.execute(context)
