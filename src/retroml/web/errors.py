"""How errors become HTTP answers: a status code and one body shape, :class:`ErrorBody`, for every error.

A 422 names the fields, whether FastAPI refused the JSON or the run config refused a value::

    {"detail": "total_timesteps: Input should be greater than 0",
     "errors": [{"field": "total_timesteps", "message": "Input should be greater than 0"}]}

Every other error (404, 405, 409, and the guard's 400/403/413/415/421, the token's 401) has the
sentence in ``detail`` and an empty ``errors``. The shape is published in the OpenAPI schema
(:data:`ERROR_RESPONSES`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from retroml.disk import disk_full_sentence, disk_is_full, full_path, is_disk_full
from retroml.errors import ConflictError, DiskFullError, InvalidInputError, NotFoundError, RetroMLError


class FieldProblem(BaseModel):
    """One refused value: the dotted field of the request and the sentence saying why."""

    field: str
    message: str


class ErrorBody(BaseModel):
    """The body of every error answer."""

    detail: str = Field(description="One sentence saying what is wrong and what to do.")
    errors: list[FieldProblem] = Field(default_factory=list, description="The refused fields (422 only).")


_ERROR_MEANINGS = {
    400: "The request is malformed (e.g. no Host header).",
    401: "The server needs its access token.",
    403: "A state-changing request from another site's page.",
    404: "No such run, video, file or route.",
    405: "The route does not take this method.",
    409: "The run's state does not allow this now.",
    413: "The request body is too large.",
    415: "A state-changing request that is not Content-Type: application/json.",
    421: "The request names a host this server does not answer to (DNS rebinding).",
    422: "A refused value, with the field it belongs to.",
    507: "The disk holding the data home is full: reads work, changes wait until there is space.",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": meaning} for status, meaning in _ERROR_MEANINGS.items()
}


# The field of a 422 that refuses the request as a whole, not one of its values.
WHOLE_REQUEST = "request"


def error_response(status: int, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """An error answer without fields: ``{"detail": detail, "errors": []}``."""
    return JSONResponse(status_code=status, content={"detail": detail, "errors": []}, headers=headers)


class FieldError(InvalidInputError):
    """A refused value of a request body, with the body field it belongs to.

    :param problems: ``(field, sentence)`` pairs; ``field`` is the dotted name in the request body.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.problems))


def unprocessable(problems: Sequence[tuple[str, str]]) -> JSONResponse:
    errors = [{"field": field, "message": _sentence(message)} for field, message in problems]
    # A refusal of the request as a whole reads as its sentence alone; a field's names the field.
    detail = "; ".join(
        error["message"] if error["field"] == WHOLE_REQUEST else f"{error['field']}: {error['message']}"
        for error in errors
    )
    return JSONResponse(status_code=422, content={"detail": detail, "errors": errors})


def _sentence(message: str) -> str:
    message = message.removeprefix("Value error, ").strip()
    first_word = message.split(" ", 1)[0]
    # "unknown game …" becomes "Unknown game …"; "batch_size 7 …" keeps the setting's own spelling.
    return message[:1].upper() + message[1:] if first_word.isalpha() else message


def _status_of(error: RetroMLError) -> int:
    if isinstance(error, DiskFullError):
        return 507
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    return 422


def install_error_handlers(app: FastAPI) -> None:
    """Map :mod:`retroml.errors` to 404/409/422 (507 for a full disk, also when a library met it),
    FastAPI's own body errors to the 422 shape above, and routing's 404/405 to the same :class:`ErrorBody`."""

    @app.exception_handler(FieldError)
    async def field_error(_request: Request, error: FieldError) -> JSONResponse:
        return unprocessable(error.problems)

    @app.exception_handler(RetroMLError)
    async def retroml_error(_request: Request, error: RetroMLError) -> JSONResponse:
        status = _status_of(error)
        if status == 422:
            return unprocessable([(WHOLE_REQUEST, str(error))])
        return error_response(status, _sentence(str(error)))

    @app.exception_handler(OSError)
    @app.exception_handler(DBAPIError)
    async def disk_full(request: Request, error: Exception) -> JSONResponse:
        # A change asked for while the disk is full (reads do not write): 507 and the sentence, not a 500.
        home = request.app.state.service.home
        if not (is_disk_full(error) or (isinstance(error, DBAPIError) and disk_is_full(home))):
            raise error
        return error_response(507, disk_full_sentence(full_path(error, home), "free some space, then try again"))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 405:
            detail = f"{request.url.path} does not take {request.method}."
        elif error.status_code == 404:
            detail = f"There is nothing at {request.url.path}."
        else:
            detail = str(error.detail)
        return error_response(error.status_code, detail, headers=error.headers)

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
