"""The OpenAPI schema promises what the service does (issue 9): every error
answer is problem+json, signed-in operations say so, request bodies refuse
unknown fields. (test_fuzz.py checks real answers against it.)"""

from pathlib import Path

import pytest

from server.app import create_app
from server.settings import Settings

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}


@pytest.fixture(scope="module")
def app():
    return create_app(Settings(data_dir=Path("unused")))  # opens nothing: the store opens at startup


@pytest.fixture(scope="module")
def openapi(app):
    return app.openapi_schema.to_schema()


def operations(openapi):
    return [(method.upper(), path, operation) for path, item in openapi["paths"].items()
            for method, operation in item.items()]


def errors(operation) -> set[int]:
    return {int(status) for status in operation["responses"] if int(status) >= 400}


def test_every_error_answer_is_a_problem(openapi):
    for method, path, operation in operations(openapi):
        for status in errors(operation):
            assert operation["responses"][str(status)]["content"] == PROBLEM, (method, path, status)
    problem = openapi["components"]["schemas"]["ProblemDetails"]
    assert sorted(problem["required"]) == ["code", "detail", "status", "title", "type"]


def test_signed_in_operations_need_the_bearer_token_and_may_answer_401(app, openapi):
    scheme = openapi["components"]["securitySchemes"]["BearerToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    handlers = {(method, route.path_format): handler for route in app.routes
                for handler in getattr(route, "route_handlers", []) for method in handler.http_methods}
    for method, path, operation in operations(openapi):
        signed_in = not handlers[method, path].opt.get("exclude_from_auth")
        assert (operation.get("security") == [{"BearerToken": []}]) is signed_in, (method, path)
        if signed_in:
            assert 401 in errors(operation), (method, path)


def test_bodies_may_be_malformed_or_too_large_and_only_signing_in_is_rate_limited(openapi):
    for method, path, operation in operations(openapi):
        if "requestBody" in operation:
            assert {400, 413} <= errors(operation), (method, path)
        assert (429 in errors(operation)) is (path in ("/api/v1/auth/signup", "/api/v1/auth/login")), (method, path)


def test_request_bodies_refuse_unknown_fields(openapi):
    schemas = openapi["components"]["schemas"]

    def named(schema) -> list[str]:  # the components a body's schema refers to, however nested
        if isinstance(schema, dict):
            ref = schema.get("$ref", "").removeprefix("#/components/schemas/")
            return ([ref] if ref else []) + [name for value in schema.values() for name in named(value)]
        return [name for value in schema for name in named(value)] if isinstance(schema, list) else []

    bodies = [named(operation["requestBody"]) for _, _, operation in operations(openapi) if "requestBody" in operation]
    names = {name for found in bodies for name in found}
    names |= {inner for name in names for inner in named(schemas[name])}
    assert names >= {"SignUp", "LogIn", "Push", "Mutation", "Pull", "InvitationRequest"}
    assert {name: schemas[name].get("additionalProperties") for name in names} == dict.fromkeys(names, False)
