"""Requests are read strictly, as docs/PROTOCOL.md promises, for every route at once.

Litestar decodes a JSON body to plain values and then converts them with msgspec's lax
rules ("1" passes for 1), and it catches only msgspec's DecodeError, so a body nested
too deeply (RecursionError) or with invalid UTF-8 in a string (UnicodeDecodeError) was
a 500. Query strings go through the same lax rules, which read "1e3" and "1.0" as
whole numbers.
"""

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.params import QueryParameter
from litestar.types import Empty

WHOLE_NUMBER = re.compile(r"-?[0-9]+")
BOUNDS = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
LENGTHS = {"str": "characters", "array": "items", "object": "entries"}


class StrictRequest(Request):
    async def json(self) -> Any:
        """The body decoded straight into the handler's `data` type, strictly (Litestar's
        lax conversion afterwards passes a value of that type through unchanged)."""
        if self._json is Empty:
            data = self.route_handler.parsed_fn_signature.parameters.get("data")
            self._json = decode(await self.body() or b"null", data.annotation if data else Any)
        return self._json


def decode(body: bytes, into: Any) -> Any:
    try:
        return msgspec.json.decode(body, type=into, strict=True)
    except msgspec.ValidationError as error:  # before DecodeError, its base class
        message, _, where = str(error).partition(" - at `$")
        raise ValidationException(extra=[{"message": in_words(message), "key": where.strip(".`") or "data",
                                          "source": "body"}]) from None
    except msgspec.DecodeError as error:
        reason = str(error).removeprefix("JSON is malformed: ")
        raise ValidationException(f"The body is not valid JSON: {reason[:1].lower()}{reason[1:]}.") from None
    except RecursionError:
        raise ValidationException("The body is nested too deeply to be read: send flatter JSON.") from None
    except UnicodeDecodeError:
        raise ValidationException("The body is not valid UTF-8 text: send JSON encoded as UTF-8.") from None


def in_words(message: str) -> str:
    """A bound msgspec checks, said in words: "Expected `int` >= 1" reads "must be at least 1"."""
    number = re.fullmatch(r"Expected `(?:int|float)` (>=|<=|>|<) (\S+)", message)
    if number:
        return f"must be {BOUNDS[number[1]]} {number[2]}"
    length = re.fullmatch(r"Expected `(str|array|object)` of length (>=|<=) (\d+)", message)
    if length:
        return f"must be {BOUNDS[length[2]]} {length[3]} {LENGTHS[length[1]]} long"
    return message


def whole_numbers(request: Request) -> None:
    """Before every handler: an integer query parameter is digits, as the schema says."""
    for field in request.route_handler.parsed_fn_signature.parameters.values():
        # Exactly int: a bool is an int too, and "true" is no number.
        if isinstance(field.kwarg_definition, QueryParameter) and field.annotation in (int, int | None):
            name = field.kwarg_definition.name or field.name
            for value in request.query_params.getall(name, []):
                if not WHOLE_NUMBER.fullmatch(value):
                    raise ValidationException(extra=[{"message": f"Expected a whole number, not {value!r}",
                                                      "key": name, "source": "query"}])
