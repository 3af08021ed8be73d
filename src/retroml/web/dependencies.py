"""FastAPI dependencies: the one :class:`RunService` the app was created with, and the bounds of ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from retroml.runs.service import RunService


def get_service(request: Request) -> RunService:
    service: RunService = request.app.state.service
    return service


Service = Annotated[RunService, Depends(get_service)]

# Row ids are SQLite/PostgreSQL 64-bit integers: a larger number could not be a row, and the
# database driver would fail on it (a 500) instead of finding nothing.
ROW_ID_MAX = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX, description="The id of a stored row.")]
SinceId = Annotated[int, Query(ge=0, le=ROW_ID_MAX, description="Only rows with an id above this.")]
