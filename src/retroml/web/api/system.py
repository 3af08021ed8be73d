"""``/api/system``: CPU, memory, disk and the runs training now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from retroml.web.dependencies import Service

router = APIRouter(tags=["system"])


@router.get("/system")
def system_status(service: Service) -> dict[str, Any]:
    return service.system_status()
