"""The faster update computes what SB3's does: same outputs, same gradients, same Adam steps, stock saves."""

from __future__ import annotations

import copy
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.torch_layers import NatureCNN
from torch import nn

from retroml.engine.fast_updates import depth_to_space, fused_adam, space_to_depth, speed_up

FRAME_STACK = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)


class QNet(nn.Module):
    """The shape of SB3's DQN policy: a Nature CNN, a head and an Adam optimizer on its parameters."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = NatureCNN(FRAME_STACK, 512)
        self.head = nn.Linear(512, 4)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=1e-3, eps=1e-5)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(obs.float() / 255.0))


def frames(batch: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, 256, (batch, 4, 84, 84), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def test_strided_convolutions_measure_their_gradient_layouts_and_keep_the_fastest() -> None:
    net = QNet()
    speed_up(net)
    first, second, third = (module for module in net.modules() if isinstance(module, nn.Conv2d))
    assert set(first.layout_choice.layouts) == {"plain", "channels-last", "space-to-depth"}
    assert set(second.layout_choice.layouts) == {"plain", "channels-last"}  # 32 channels: no space-to-depth
    assert "forward" not in vars(third)  # stride 1: nothing to gain
    assert isinstance(net.optimizer, torch.optim.Adam) and net.optimizer.defaults["fused"]
    for _ in range(3 * 3):  # a warm-up and two trials of each layout
        net(frames(8)).sum().backward()
    key = (8, torch.get_num_threads())
    assert key in first.layout_choice.chosen and key in second.layout_choice.chosen
    assert first.layout_choice.chosen[key] in first.layout_choice.layouts
    assert (32, torch.get_num_threads()) not in first.layout_choice.chosen  # per batch size


@pytest.mark.parametrize("layout", ["plain", "channels-last", "space-to-depth"])
@pytest.mark.parametrize(
    ("shape", "kernel", "stride"), [((32, 4, 84, 84), 8, 4), ((5, 3, 87, 90), (8, 6), (4, 3)), ((6, 8, 20, 20), 4, 2)]
)
def test_every_layout_gives_the_same_gradients_within_float_rounding(shape, kernel, stride, layout) -> None:
    torch.manual_seed(0)
    plain = nn.Conv2d(shape[1], 16, kernel, stride)
    fast = copy.deepcopy(plain)
    speed_up(fast)
    fast.layout_choice.chosen[(shape[0], torch.get_num_threads())] = layout
    x = torch.rand(*shape, requires_grad=True)
    out_plain, out_fast = plain(x), fast(x)
    assert torch.equal(out_plain, out_fast)
    grad = torch.randn_like(out_plain)
    expected = torch.autograd.grad(out_plain, [x, plain.weight, plain.bias], grad)
    got = torch.autograd.grad(out_fast, [x, fast.weight, fast.bias], grad)
    for name, want, have in zip(("input", "weight", "bias"), expected, got, strict=True):
        assert relative_error(have, want) < 1e-5, name


def test_space_to_depth_round_trips() -> None:
    x = torch.arange(2 * 3 * 8 * 12, dtype=torch.float32).reshape(2, 3, 8, 12)
    assert torch.equal(depth_to_space(space_to_depth(x, 4, 3), 4, 3), x)
    assert torch.equal(space_to_depth(x, 4, 4), nn.functional.pixel_unshuffle(x, 4))


def test_ten_updates_end_on_the_same_weights_within_float_rounding() -> None:
    def train(fast: bool) -> torch.Tensor:
        net = QNet()
        if fast:
            speed_up(net)
        for step in range(10):
            obs, target = frames(16, seed=step), torch.randn(16, 4, generator=torch.Generator().manual_seed(step))
            loss = nn.functional.smooth_l1_loss(net(obs), target)
            net.optimizer.zero_grad()
            loss.backward()
            net.optimizer.step()
        return torch.cat([parameter.detach().flatten() for parameter in net.parameters()])

    before = torch.cat([parameter.detach().flatten() for parameter in QNet().parameters()])
    plain, fast = train(False), train(True)
    assert relative_error(plain, before) > 1e-3  # the updates moved the weights
    assert relative_error(fast, plain) < 1e-4


def test_the_fused_optimizer_keeps_the_settings_and_the_state() -> None:
    net = QNet()
    net(frames(4)).sum().backward()
    net.optimizer.step()
    fused = fused_adam(net.optimizer)
    assert fused.param_groups[0]["lr"] == 1e-3 and fused.param_groups[0]["eps"] == 1e-5
    assert fused.state_dict()["state"].keys() == net.optimizer.state_dict()["state"].keys()
    assert fused.param_groups[0]["params"] == net.optimizer.param_groups[0]["params"]


def test_a_faster_model_saves_and_loads_as_stock_sb3(tmp_path) -> None:
    from stable_baselines3 import PPO

    from retroml.config import GameConfig
    from retroml.engine.envs import AtariNativeVecEnv
    from retroml.engine.thread_placement import PlacedPPO

    env = AtariNativeVecEnv(GameConfig(id="pong"), 2, seed=0)
    model = PlacedPPO("CnnPolicy", env, n_steps=32, batch_size=32, n_epochs=1, device="cpu", seed=0)
    model.learn(64)
    assert "layout_choice" in vars(model.policy.features_extractor.cnn[0])
    model.save(tmp_path / "model.zip")
    stock = PPO.load(tmp_path / "model.zip", device="cpu")
    assert "layout_choice" not in vars(stock.policy.features_extractor.cnn[0])
    for mine, theirs in zip(model.policy.parameters(), stock.policy.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    obs = env.observation_space.sample()[None]
    assert np.array_equal(model.predict(obs, deterministic=True)[0], stock.predict(obs, deterministic=True)[0])


def test_a_choice_is_measured_again_after_a_while(monkeypatch) -> None:
    from retroml.engine import fast_updates

    monkeypatch.setattr(fast_updates, "REMEASURE_EVERY", 4)
    conv = nn.Conv2d(4, 8, 8, 4)
    speed_up(conv)
    choice = conv.layout_choice
    x = torch.rand(2, 4, 84, 84)
    for _ in range(3 * 3):  # warm-up and trials of the three layouts
        conv(x).sum().backward()
    key = (2, torch.get_num_threads())
    assert key in choice.chosen
    for _ in range(4):  # the choice in use, then a new measurement starts
        conv(x).sum().backward()
    assert key not in choice.chosen
    for _ in range(3 * 2):  # the kernels are warm: two trials of each
        conv(x).sum().backward()
    assert key in choice.chosen


def test_the_thread_placement_does_not_time_a_call_in_which_layouts_were_timed() -> None:
    from retroml.engine.thread_placement import PhaseThreads

    phase = PhaseThreads(1)  # one thread, the count the loops below run at too
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    conv = nn.Conv2d(4, 8, 8, 4)
    speed_up(conv)
    x = torch.rand(3, 4, 84, 84)
    with phase.timed():  # the layouts' first trial: this call's time is not the settled one
        conv(x).sum().backward()
    assert phase.calls == 0 and not phase._warm
    try:
        while (3, 1) not in conv.layout_choice.chosen:
            conv(x).sum().backward()
        for _ in range(2):  # settled: a warm-up call, then a measured one
            with phase.timed():
                conv(x).sum().backward()
    finally:
        torch.set_num_threads(threads)
    assert phase.calls == 1 and 1 in phase.seconds_per_call


FAULT_PROBE = """
import resource, torch
from retroml.engine.fast_updates import keep_freed_memory
torch.set_num_threads(1)
assert keep_freed_memory()
observations = torch.randint(0, 256, (256, 4, 84, 84), dtype=torch.uint8)  # a PPO minibatch
for _ in range(3):
    observations.float() / 255.0
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    observations.float() / 255.0
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_minibatch_s_tensors_reuse_memory_instead_of_faulting_it_in_again() -> None:
    # Two 29 MB tensors per minibatch are 14,080 pages: stock glibc most often faults every one of them in
    # again each time (measured: 14,080 in 5 runs of 6, 1,764 in one); kept memory faults few or none.
    answer = subprocess.run([sys.executable, "-c", FAULT_PROBE], capture_output=True, text=True, check=True)
    assert float(answer.stdout) < 2_000
