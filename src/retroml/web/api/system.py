"""``/api/system``: CPU, memory, disk and the runs training now."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from retroml.web.dependencies import Service

router = APIRouter(tags=["system"])


class SystemStatus(BaseModel):
    """This machine as the dashboard's strip shows it (:meth:`RunService.system_status`)."""

    cpu_percent: float
    cpu_count: int
    memory_total: int = Field(description="Bytes.")
    memory_used: int = Field(description="Bytes in use (total less available).")
    memory_percent: float
    disk_total: int = Field(description="Bytes of the disk the data home is on.")
    disk_free: int = Field(description="Bytes free on that disk.")
    disk_percent: float
    gpu: str | None = None
    home: str = Field(description="The data home every face reads and writes.")
    running_runs: list[str] = Field(description="Ids of the runs queued, training, paused or rendering.")


@router.get("/system", response_model=SystemStatus)
def system_status(service: Service) -> SystemStatus:
    return SystemStatus(**service.system_status())
