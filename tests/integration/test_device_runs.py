"""`retroml train --device`: a tiny run trains where asked; a GPU run's checkpoint loads on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from stable_baselines3 import PPO
from tests.integration.conftest import tiny_config
from tests.integration.test_cli import run_cli

from retroml.engine.algos import load_policy
from retroml.engine.devices import torch_build
from retroml.runs.service import RunService


def tiny_run_file(tmp_path: Path, device: str) -> str:
    data = tiny_config("pong", 256, milestones_pct=[0, 100], recording={"enabled": False})
    data["train"]["device"] = device
    path = tmp_path / f"tiny_{device.replace(':', '_')}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def train_tiny(tmp_path: Path, *flags: str) -> tuple[RunService, str]:
    home = str(tmp_path / "home")
    code, output = run_cli("train", "--home", home, "--config", tiny_run_file(tmp_path, "auto"), *flags)
    assert code == 0 and "completed" in output, output
    service = RunService(home)
    (run,) = service.list_runs()
    return service, run.run_id


def test_auto_trains_on_what_this_machine_has_and_the_run_says_so(tmp_path: Path) -> None:
    service, run_id = train_tiny(tmp_path, "--device", "auto")
    assert yaml.safe_load(service.paths(run_id).config.read_text())["train"]["device"] == "auto"
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert f"device {expected}" in service.paths(run_id).log.read_text()
    code, output = run_cli("runs", "show", run_id, "--home", str(service.home))
    assert code == 0 and "device: auto" in output, output


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is that of a machine without a GPU")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_a_gpu_this_machine_lacks_is_refused_before_the_run_exists(tmp_path: Path, device: str) -> None:
    home = tmp_path / "home"
    code, output = run_cli("train", "--home", str(home), "--game", "pong", "--device", device)
    assert code == 2, output
    assert f"this machine has no CUDA GPU ({torch_build()}); use --device cpu or auto" in output
    assert "Traceback" not in output
    assert not list(home.glob("runs/*")), "a refused run must leave no folder behind"


def test_a_misspelt_device_is_refused(tmp_path: Path) -> None:
    code, output = run_cli("train", "--home", str(tmp_path / "home"), "--device", "gpu")
    assert code == 2 and "train.device: must be auto, cpu, cuda or cuda:N" in output, output


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_gpu_run_trains_on_the_gpu_and_its_checkpoint_loads_on_the_cpu(tmp_path: Path) -> None:
    service, run_id = train_tiny(tmp_path, "--device", "cuda")
    assert "device cuda:0" in service.paths(run_id).log.read_text()
    checkpoint = service.paths(run_id).latest_checkpoint
    stock = PPO.load(checkpoint, device="cpu")
    assert stock.device.type == "cpu"
    observation = np.zeros((1, *stock.observation_space.shape), dtype=np.uint8)
    action, _ = stock.predict(observation, deterministic=True)
    assert action.shape == (1,)
    assert load_policy("ppo", checkpoint).device.type == "cpu"
