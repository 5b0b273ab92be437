"""The finishing touches of the generated OpenAPI schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.request import Request

_EVERYWHERE = {
    "401": "The token is invalid or revoked (any endpoint), or authentication is required.",
    "429": "Too many requests; try again after the `Retry-After` seconds.",
}


def complete_schema(
    result: dict[str, Any], generator: SchemaGenerator, request: Request | None, public: bool
) -> dict[str, Any]:
    """Finish the generated schema: what every operation may answer, and every enum described.

    Any request can carry a bad token (401) or exceed its rate (429), so those two answers
    are added to every operation rather than repeated by hand on each view.
    """
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in _EVERYWHERE.items():
                responses.setdefault(code, {"content": error, "description": description})
    for name, text in (("BlankEnum", "An empty string: no value."), ("NullEnum", "No value.")):
        component = result.get("components", {}).get("schemas", {}).get(name)
        if component is not None:
            component.setdefault("description", text)
    return result
