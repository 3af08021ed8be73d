"""``/api/estimates``: what the New run form shows before Start — the devices and the training time.

The training time comes from :mod:`retroml.runs.train_estimate` (this machine's measured speed); the
form sends the body it would start the run with, so the estimate is of exactly that run.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from retroml.engine.devices import torch_build
from retroml.runs.train_estimate import DeviceChoice, TrainingEstimate, device_choices
from retroml.web.api.run_models import TrainingConfig, to_run_config
from retroml.web.dependencies import Service

router = APIRouter(tags=["estimates"])


class Devices(BaseModel):
    """The devices a run can train on here, as the form's Device field lists them."""

    choices: list[DeviceChoice] = Field(description="auto first (saying what it picks here), then each device.")
    torch: str = Field(description='The PyTorch build: "torch 2.13.0, CPU build".')


@router.get("/estimates/devices", response_model=Devices)
def devices() -> Devices:
    """What the Device field offers on this machine."""
    return Devices(choices=device_choices(), torch=torch_build())


@router.post("/estimates/training", response_model=TrainingEstimate)
def training_estimate(body: TrainingConfig, service: Service) -> TrainingEstimate:
    """How long the run this body would start trains on this machine (refused as ``POST /runs`` would refuse it)."""
    return service.training_estimate(to_run_config(body))


@router.post("/estimates/probe", response_model=TrainingEstimate)
def probe_training(body: TrainingConfig, service: Service) -> TrainingEstimate:
    """Measure this machine for the run this body would start (a short real training in the background).

    Starts nothing while a run trains or a probe already measures; the answer is the estimate as it
    stands, ``probing`` saying whether a probe is at work — ask ``/estimates/training`` again when it ends.
    """
    return service.training_estimate(to_run_config(body), probe=True)
