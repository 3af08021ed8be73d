"""How errors become HTTP answers: a status code and a ``detail`` sentence, plus the field for 422s.

Every 422 body has the same shape, whether FastAPI refused the JSON or the run config refused a value::

    {"detail": "total_timesteps: Input should be greater than 0",
     "errors": [{"field": "total_timesteps", "message": "Input should be greater than 0"}]}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from retroml.errors import ConflictError, InvalidInputError, NotFoundError, RetroMLError


class FieldError(InvalidInputError):
    """A refused value of a request body, with the body field it belongs to.

    :param problems: ``(field, sentence)`` pairs; ``field`` is the dotted name in the request body.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.problems))


def unprocessable(problems: Sequence[tuple[str, str]]) -> JSONResponse:
    errors = [{"field": field, "message": _sentence(message)} for field, message in problems]
    detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
    return JSONResponse(status_code=422, content={"detail": detail, "errors": errors})


def _sentence(message: str) -> str:
    message = message.removeprefix("Value error, ").strip()
    first_word = message.split(" ", 1)[0]
    # "unknown game …" becomes "Unknown game …"; "batch_size 7 …" keeps the setting's own spelling.
    return message[:1].upper() + message[1:] if first_word.isalpha() else message


def _status_of(error: RetroMLError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    return 422


def install_error_handlers(app: FastAPI) -> None:
    """Map :mod:`retroml.errors` to 404/409/422 and FastAPI's own body errors to the 422 shape above."""

    @app.exception_handler(FieldError)
    async def field_error(_request: Request, error: FieldError) -> JSONResponse:
        return unprocessable(error.problems)

    @app.exception_handler(RetroMLError)
    async def retroml_error(_request: Request, error: RetroMLError) -> JSONResponse:
        status = _status_of(error)
        if status == 422:
            return unprocessable([("request", str(error))])
        return JSONResponse(status_code=status, content={"detail": _sentence(str(error))})

    @app.exception_handler(RequestValidationError)
    async def request_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems: list[tuple[str, str]] = []
        for problem in error.errors():
            location: list[Any] = list(problem.get("loc", ()))
            if location and location[0] in ("body", "query", "path", "header"):
                location = location[1:]
            field = ".".join(str(part) for part in location) or "body"
            message = "is not a known setting" if problem.get("type") == "extra_forbidden" else problem["msg"]
            problems.append((field, message))
        return unprocessable(problems)
