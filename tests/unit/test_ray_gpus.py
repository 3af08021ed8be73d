"""How many GPUs a training run asks a Ray cluster for (the cluster places it on a node that has them)."""

from __future__ import annotations

import pytest

from retroml.runs.ray_executor import gpus_wanted


@pytest.mark.parametrize(
    ("device", "cluster_gpus", "wanted"),
    [("cpu", 4, 0), ("auto", 0, 0), ("auto", 2, 1), ("cuda", 1, 1), ("cuda:0", 8, 1)],
)
def test_a_run_asks_for_the_gpu_its_device_needs(device: str, cluster_gpus: float, wanted: float) -> None:
    assert gpus_wanted(device, cluster_gpus) == wanted
