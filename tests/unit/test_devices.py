"""Which device a run trains on: ``train.device`` resolved by the one rule in ``engine.devices``."""

from __future__ import annotations

import pytest
import torch

from retroml.config import build_config
from retroml.engine.devices import detected_devices, resolve_device, torch_build
from retroml.errors import InvalidInputError

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="the refusals are those of a machine without a GPU")


def test_auto_takes_a_gpu_only_where_torch_sees_one() -> None:
    assert resolve_device("auto") == ("cuda:0" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    assert resolve_device(" CPU ") == "cpu"


@no_gpu
def test_a_cpu_machine_offers_only_the_cpu() -> None:
    assert detected_devices() == ["cpu"]
    assert torch_build() == f"torch {torch.__version__.split('+')[0]}, CPU build"


@no_gpu
@pytest.mark.parametrize("asked", ["cuda", "cuda:0", "cuda:1", "CUDA:1"])
def test_asking_for_a_gpu_this_machine_lacks_is_one_sentence(asked: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        resolve_device(asked)
    assert str(refused.value) == f"this machine has no CUDA GPU ({torch_build()}); use --device cpu or auto"


@pytest.mark.parametrize("asked", ["gpu", "cuda:", "cuda:-1", "cuda0", "mps", ""])
def test_a_misspelt_device_is_one_sentence(asked: str) -> None:
    sentence = f"must be auto, cpu, cuda or cuda:N (N a GPU number, e.g. cuda:0), not '{asked}'"
    with pytest.raises(InvalidInputError) as refused:
        resolve_device(asked)
    assert str(refused.value) == f"device {sentence}"
    with pytest.raises(InvalidInputError) as invalid:
        build_config({"train": {"device": asked}})
    assert f"train.device: {sentence}" in str(invalid.value)


def test_the_config_checks_only_the_spelling() -> None:
    # A GPU run's config.yaml must still read on a CPU-only machine (runs show, the journey render).
    assert build_config({"train": {"device": "cuda:1"}}).train.device == "cuda:1"
    assert build_config({"train": {"device": "CUDA"}}).train.device == "cuda"
    assert build_config({}).train.device == "auto"
