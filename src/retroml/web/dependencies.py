"""FastAPI dependencies: the one :class:`RunService` the app was created with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from retroml.runs.service import RunService


def get_service(request: Request) -> RunService:
    service: RunService = request.app.state.service
    return service


Service = Annotated[RunService, Depends(get_service)]
