"""Which PyTorch device a run trains on: the one rule, used when a run is created and by the trainer.

``train.device`` is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``. ``auto`` takes the first CUDA GPU when
torch sees one and the CPU otherwise. Asking for a GPU this machine does not have is refused in one
sentence when the run is created, never deep in the trainer. Playback (journeys, clips) always loads
checkpoints on the CPU, so a GPU run's journey renders on any machine.

torch is imported only inside the functions. The spelling of ``train.device`` is the config's rule
(:func:`retroml.config.train.check_device_spelling`).
"""

from __future__ import annotations

from retroml.config.train import check_device_spelling
from retroml.errors import InvalidInputError

__all__ = ["check_device_spelling", "cuda_count", "detected_devices", "resolve_device", "torch_build"]


def cuda_count() -> int:
    """How many CUDA GPUs torch sees (0 on a CPU build or without a driver)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def detected_devices() -> list[str]:
    """The devices a run can ask for on this machine, as faces show them: ``cpu``, then ``cuda:0`` …"""
    return ["cpu", *(f"cuda:{index}" for index in range(cuda_count()))]


def torch_build() -> str:
    """``torch 2.13.0, CPU build`` or ``torch 2.13.0, CUDA 12.6 build``: what a refusal names."""
    import torch

    version = torch.__version__.split("+", 1)[0]
    cuda = torch.version.cuda
    return f"torch {version}, {f'CUDA {cuda}' if cuda else 'CPU'} build"


def resolve_device(asked: str) -> str:
    """The device to train on for ``asked``: ``cpu`` or ``cuda:N``.

    Raises :class:`InvalidInputError` (one sentence, what to do) for a bad spelling or a GPU this machine
    does not have.
    """
    try:
        device = check_device_spelling(asked)
    except ValueError as error:
        raise InvalidInputError(f"device {error}") from None
    if device == "cpu":
        return "cpu"
    count = cuda_count()
    if device == "auto":
        return "cuda:0" if count else "cpu"
    index = int(device.partition(":")[2] or 0)
    if count == 0:
        raise InvalidInputError(f"this machine has no CUDA GPU ({torch_build()}); use --device cpu or auto")
    if index >= count:
        known = ", ".join(f"cuda:{number}" for number in range(count))
        raise InvalidInputError(
            f"this machine has no {device}: it has {count} CUDA GPU{'s' if count > 1 else ''} ({known}); "
            f"use one of those, --device cpu or auto"
        )
    return f"cuda:{index}"
