"""What the OpenAPI schema says beyond what Litestar infers from the handlers: the
problem+json answers of each operation, the Bearer scheme of the signed-in ones, and that
request bodies refuse unknown fields. docs/PROTOCOL.md says the same in words."""

from typing import Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

PROBLEM = "application/problem+json"


class ProblemDetails(msgspec.Struct):
    """Every error answer (RFC 9457), as server/problems.py makes it."""
    type: str
    title: str
    status: int
    detail: str  # for a person
    code: str  # stable, for programs
    field: str | None = None  # 400 invalid_request: where the request is wrong, if known
    expected_id: int | None = None  # 409 out_of_order: the mutation id the server expects next
    last_mutation_id: int | None = None  # 409 out_of_order
    results: list[dict[str, Any]] | None = None  # 409 out_of_order: the results before the gap


WHEN = {
    400: "`invalid_request`: the request does not fit the schema (a wrong type, a value out of range, a missing or "
         "unknown field) or its body cannot be read (not JSON, not UTF-8, nested too deeply); `bad_request`: the "
         "HTTP request itself is malformed (e.g. its `Content-Length` or `Host` header).",
    401: "`not_signed_in`: no, unknown or revoked token (with `WWW-Authenticate: Bearer`); `account_deleted`: "
         "the token's account was deleted; on sign-in, `bad_credentials`.",
    403: "`device_not_yours`: the client id belongs to another account; `wrong_password`: deleting an account "
         "needs its password.",
    404: "`not_found`: no such alliance for this user, or no such version, moment, link or device.",
    409: "The state does not allow it: `email_taken`, `already_exists`, `not_allowed_now`, or `out_of_order` "
         "(a gap in a push's numbering; with `expected_id`, `last_mutation_id` and `results`).",
    413: "`too_large`: the body is over the server's limit (1 MiB by default).",
    422: "`invalid_input`: the domain refuses a value the schema allowed.",
    429: "`too_many_requests`: too many sign-ups and sign-ins from this address (see the `RateLimit-*` headers).",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The error answers of an operation, for its decorator's `responses=`."""
    return {status: ResponseSpec(ProblemDetails, description=WHEN[status], media_type=PROBLEM,
                                 generate_examples=False) for status in statuses}


BEARER = [{"BearerToken": []}]  # the `security` of every signed-in operation


class StrictStructSchema(StructSchemaPlugin):  # Litestar's own (private; pinned in constraints.txt)
    """Litestar's schema of a Struct, plus `additionalProperties: false` when the Struct
    refuses unknown fields (Litestar leaves that out)."""

    def is_plugin_supported_field(self, field_definition: Any) -> bool:
        return (super().is_plugin_supported_field(field_definition)
                and field_definition.type_.__struct_config__.forbid_unknown_fields)

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Any:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Alliance", version="1", path="/schema",
        description="Designed alliances: sync protocol and history (docs/PROTOCOL.md).",
        render_plugins=[ScalarRenderPlugin()],
        components=Components(security_schemes={"BearerToken": SecurityScheme(
            type="http", scheme="bearer",
            description="The token from sign-up or sign-in, sent as `Authorization: Bearer <token>`.")}))
