"""What the API takes as a request body: a JSON object with only the properties its schema names.

Left to their defaults, pydantic and django-ninja's Schema read a body that is not an object
(`[1, 2]`, `"text"`, `null`) as one that left every property out, drop properties they do not
know and turn `"5"` or `true` into 5 or 1: a misspelt `inptu` or a list sent by mistake started
a run with no input instead of being refused. Every input schema of the API derives from
BodyIn, which refuses all three; the refusal is django-ninja's 422 naming the field (`body` for
a body that is not an object, the unknown property's own name for one the schema lacks).

Values are strict: a number is a JSON number and a switch a JSON boolean. Times and dates,
which JSON can only carry as text, opt out with `Field(strict=False)`.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

__all__ = ["BodyIn"]


class BodyIn(BaseModel):
    """A request body: a JSON object holding only the properties declared, of their own types."""

    # A plain pydantic model rather than ninja's Schema: a body is parsed JSON, never an object
    # whose attributes should be read (Schema's from_attributes is what let a list through).
    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _a_json_object(cls, data: Any) -> Any:
        # One message for both ways bodies are read (ninja's parsed JSON, model_validate_json),
        # where pydantic's own wording differs and names the class.
        if isinstance(data, dict | cls):
            return data
        raise PydanticCustomError("model_type", "Input should be a JSON object")
