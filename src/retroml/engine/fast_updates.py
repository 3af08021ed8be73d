"""Faster gradient updates on the CPU, computing exactly what SB3 computes.

Measured on this 2-core machine (one torch thread), a third of an update went to memory layout, not
arithmetic:

- **Convolution gradients.** oneDNN's speed for the same sums depends on how the tensors lie in memory,
  and differently per layer and batch size. For the Nature CNN's first layer (8×8 kernels, stride 4, on
  the 4-frame stack), the weight gradient laid out *space-to-depth* — each 4×4 block of the input
  becomes 16 channels, the kernel a 2×2 stride-1 one over 64 channels — took 2.1 instead of 7.1 ms at
  32 samples, 25 instead of 94 ms at PPO's 256 (plus the re-layout: 0.7 and 8 ms). For the second layer
  (32 channels, 4×4 stride 2) at 256 samples, both gradients *channels-last* took 39 instead of 51 ms,
  conversions included; at 32 samples neither pays. Since no fixed rule is right on every CPU, each
  convolution **measures**: its first backward passes at a batch size and torch thread count try each
  layout (after one warm-up call, when oneDNN builds its kernels), and the fastest is kept for them. The
  forward pass is left as it is. A layout changes the order of the sums at most (equal within float
  rounding, about 1e-5 of the largest value).
- **Adam's step** ran as a Python loop of separate element-wise kernels over 1.7 M parameters (10 ms of
  a 45 ms DQN update); torch's fused CPU Adam does the same formula in one pass (within float rounding:
  6e-8 apart after 30 updates).
- **Page faults.** glibc hands a freed block of 128 KB or more back to the kernel (or trims the heap's
  top), so each minibatch's fresh tensors of the same sizes fault every page in again: turning PPO's
  256 observations into floats and dividing them by 255 (two 29 MB tensors) met 7,200 page faults per
  minibatch and took twice as long as into memory already touched. :func:`keep_freed_memory` has glibc keep
  freed memory for the next allocation. Nothing computed changes, only where the bytes live.

Both are applied to a model's policy after SB3 builds it; neither changes a parameter, a saved key or
a hyper-parameter, so checkpoints stay readable by stock ``PPO.load()`` / ``DQN.load()``.
"""

from __future__ import annotations

import ctypes
import sys
import time
import types
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional

# Space-to-depth pays where the convolution reads few channels (the frame stack): 4 input channels
# become 64, the width oneDNN's kernels are built for; with more it is not tried.
MAX_SPACE_TO_DEPTH_CHANNELS = 8
# Timed backward passes per layout, batch size and thread count before the choice (after one warm-up each).
TRIALS = 2
# Backward passes after which a choice is measured again: a shared machine's load changes, and a
# choice made during another job's burst should not stay for the whole run.
REMEASURE_EVERY = 1000

# What a choice is for: the batch size and torch's thread count (the thread placement changes it).
Key = tuple[int, int]
Gradients = tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]
# A layout's backward: (grad_output, input, weight, stride, which gradients) → (input, weight, bias) gradients.
Backward = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, tuple[int, int], list[bool]], Gradients]


def speed_up(policy: nn.Module) -> None:
    """Apply both changes to ``policy`` (an SB3 policy) in place; a second call changes nothing."""
    for module in policy.modules():
        if isinstance(module, nn.Conv2d) and "forward" not in vars(module):
            layouts = conv_layouts(module)
            if len(layouts) > 1:
                module.layout_choice = LayoutChoice(layouts)  # type: ignore[assignment]
                module.forward = types.MethodType(_conv_forward, module)  # type: ignore[method-assign]
    optimizer = getattr(policy, "optimizer", None)
    if type(optimizer) is torch.optim.Adam and not optimizer.defaults.get("fused"):
        setattr(policy, "optimizer", fused_adam(optimizer))  # noqa: B010 (a plain attribute, not a module)


# glibc's mallopt parameters: blocks up to this size come from the heap (not mmap), and the heap's free top
# is never given back; a process then holds at most its peak use, which it reaches every update anyway.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = (1 << 31) - 1


def keep_freed_memory() -> bool:
    """Have glibc reuse freed memory rather than return it to the kernel (this process, from now on).

    Returns whether it could: ``False`` on a C library without ``mallopt`` (not glibc, not Linux).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def fused_adam(optimizer: torch.optim.Adam) -> torch.optim.Adam:
    """The same Adam (parameters, groups, settings, state) with torch's fused kernel."""
    groups = [{**group, "fused": True, "foreach": None} for group in optimizer.param_groups]
    fused = torch.optim.Adam(groups, **{**optimizer.defaults, "fused": True, "foreach": None})
    fused.state.update(optimizer.state)
    return fused


def conv_layouts(conv: nn.Conv2d) -> dict[str, Backward]:
    """The layouts worth timing for ``conv``'s backward pass, by name (none for a convolution we do not handle)."""
    (kernel_h, kernel_w), (stride_h, stride_w) = conv.kernel_size, conv.stride
    plain = (
        conv.groups == 1 and conv.dilation == (1, 1) and conv.padding == (0, 0) and conv.padding_mode == "zeros"
    )  # fmt: skip
    if not plain or (stride_h, stride_w) == (1, 1):
        return {}
    layouts: dict[str, Backward] = {"plain": _plain_backward, "channels-last": _channels_last_backward}
    if conv.in_channels <= MAX_SPACE_TO_DEPTH_CHANNELS and kernel_h % stride_h == 0 and kernel_w % stride_w == 0:
        layouts["space-to-depth"] = _space_to_depth_backward
    return layouts


# Backward passes that timed a layout (a trial) so far, in this process: the thread placement does not
# count a phase's call in which one ran (:mod:`retroml.engine.thread_placement`), as its time is not
# the settled one.
_trials = 0


def layout_trials() -> int:
    """How many backward passes of this process have timed a layout (the count grows while choices are made)."""
    return _trials


class LayoutChoice:
    """Which layout computes one convolution's gradients, chosen per batch size and thread count by timing each."""

    def __init__(self, layouts: dict[str, Backward]) -> None:
        self.layouts = layouts
        self.seconds: dict[Key, dict[str, list[float]]] = {}
        self.chosen: dict[Key, str] = {}
        self.uses: dict[Key, int] = {}

    def backward(self, key: Key) -> tuple[str, Backward]:
        """The layout to use for ``key`` (batch size, threads) now: the next one to time, until all were."""
        if key in self.chosen:
            self.uses[key] = self.uses.get(key, 0) + 1
            if self.uses[key] < REMEASURE_EVERY:
                name = self.chosen[key]
                return name, self.layouts[name]
            # Measure again, the kernels are warm: the old numbers go, the warm-up call is kept.
            del self.chosen[key]
            self.uses[key] = 0
            self.seconds[key] = {name: [float("nan")] for name in self.layouts}
        timed = self.seconds.setdefault(key, {name: [] for name in self.layouts})
        # Each layout in turn: its warm-up call, then its trials.
        name = min(timed, key=lambda layout: len(timed[layout]))
        return name, self.layouts[name]

    def record(self, key: Key, name: str, seconds: float, warm: bool) -> None:
        global _trials
        if key in self.chosen:
            return
        _trials += 1
        timed = self.seconds[key]
        if not warm:
            # The first call of a layout at a batch size builds oneDNN's kernels: not counted.
            timed[name].append(float("nan"))
            return
        timed[name].append(seconds)
        if all(len(times) > TRIALS for times in timed.values()):
            self.chosen[key] = min(timed, key=lambda layout: sum(timed[layout][1:]))


def _conv_forward(self: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    if torch.is_grad_enabled() and self.weight.requires_grad:
        return _MeasuredGradConv.apply(x, self.weight, self.bias, self.stride, self.layout_choice)
    return functional.conv2d(x, self.weight, self.bias, self.stride)


class _MeasuredGradConv(torch.autograd.Function):
    """A padding-free strided convolution whose gradients are computed in the layout measured fastest."""

    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        stride: tuple[int, int],
        choice: LayoutChoice,
    ) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.choice, ctx.has_bias = stride, choice, bias is not None
        return functional.conv2d(x, weight, bias, stride)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        wanted = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.has_bias and ctx.needs_input_grad[2]]
        choice: LayoutChoice = ctx.choice
        key = (x.shape[0], torch.get_num_threads())
        name, layout = choice.backward(key)
        warm = bool(choice.seconds.get(key, {}).get(name))
        started = time.perf_counter()
        grad_x, grad_weight, grad_bias = layout(grad.contiguous(), x, weight, ctx.stride, wanted)
        choice.record(key, name, time.perf_counter() - started, warm)
        return grad_x, grad_weight, grad_bias, None, None


def _aten_backward(
    grad: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, stride: tuple[int, int], wanted: list[bool]
) -> Gradients:
    result = torch.ops.aten.convolution_backward(
        grad, x, weight, [weight.shape[0]], list(stride), [0, 0], [1, 1], False, [0, 0], 1, wanted
    )
    return result[0], result[1], result[2]


def _plain_backward(
    grad: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, stride: tuple[int, int], wanted: list[bool]
) -> Gradients:
    return _aten_backward(grad, x, weight, stride, wanted)


def _channels_last_backward(
    grad: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, stride: tuple[int, int], wanted: list[bool]
) -> Gradients:
    last = torch.channels_last
    grad_x, grad_weight, grad_bias = _aten_backward(
        grad.contiguous(memory_format=last),
        x.contiguous(memory_format=last),
        weight.contiguous(memory_format=last),
        stride,
        wanted,
    )
    return (
        None if grad_x is None else grad_x.contiguous(),
        None if grad_weight is None else grad_weight.contiguous(),
        grad_bias,
    )


def _space_to_depth_backward(
    grad: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, stride: tuple[int, int], wanted: list[bool]
) -> Gradients:
    """The input gradient as it is; the weight gradient over space-to-depth blocks (a stride-1 convolution)."""
    grad_x = _aten_backward(grad, x, weight, stride, [True, False, False])[0] if wanted[0] else None
    grad_weight = grad_bias = None
    if wanted[1] or wanted[2]:
        stride_h, stride_w = stride
        _, _, kernel_h, kernel_w = weight.shape
        # Rows and columns past the last window do not reach the output: cropping them makes the
        # input a whole number of blocks.
        rows = stride_h * (grad.shape[-2] - 1 + kernel_h // stride_h)
        cols = stride_w * (grad.shape[-1] - 1 + kernel_w // stride_w)
        blocks = space_to_depth(x[..., :rows, :cols], stride_h, stride_w)
        _, grad_blocks, grad_bias = _aten_backward(
            grad, blocks, space_to_depth(weight, stride_h, stride_w), (1, 1), [False, True, wanted[2]]
        )
        grad_weight = None if grad_blocks is None else depth_to_space(grad_blocks, stride_h, stride_w)
    return grad_x, grad_weight, grad_bias


def space_to_depth(tensor: torch.Tensor, stride_h: int, stride_w: int) -> torch.Tensor:
    """(N, C, H, W) → (N, C·sh·sw, H/sh, W/sw): channel ``c·sh·sw + i·sw + j`` holds offset (i, j) of each block."""
    n, c, h, w = tensor.shape
    blocks = tensor.reshape(n, c, h // stride_h, stride_h, w // stride_w, stride_w)
    return blocks.permute(0, 1, 3, 5, 2, 4).reshape(n, c * stride_h * stride_w, h // stride_h, w // stride_w)


def depth_to_space(tensor: torch.Tensor, stride_h: int, stride_w: int) -> torch.Tensor:
    """The inverse of :func:`space_to_depth`."""
    n, channels, h, w = tensor.shape
    c = channels // (stride_h * stride_w)
    blocks = tensor.reshape(n, c, stride_h, stride_w, h, w).permute(0, 1, 4, 2, 5, 3)
    return blocks.reshape(n, c, h * stride_h, w * stride_w)
