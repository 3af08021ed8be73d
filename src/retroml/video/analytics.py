"""The ``analytics`` layout: the game beside what the policy computed for the frame on screen.

Everything in the right-hand column is read from the network at the moment it acted, never simulated:

- **Actions.** PPO and A2C: the probability of each action under the policy's categorical
  distribution for the current observation (the bars sum to 1). DQN and QR-DQN have no
  distribution, and a softmax of Q-values would invent one, so their panel is titled "Q-values"
  and shows the Q-value of each action (QR-DQN: the mean of its quantiles, which is what its greedy
  choice maximises); bars are drawn from the lowest to the highest Q of that step, with the numbers
  printed. Labels are the game's own action names from ale-py, and the action played is
  highlighted (a random ε-greedy action under ``sampled`` playback is the one highlighted).
- **Value.** V(s) from the critic (PPO/A2C) or max Q (DQN/QR-DQN) over the last few seconds, one
  point per agent step, with the current number.
- **Convolutions.** Forward hooks on the ``Conv2d`` modules of the features extractor record each
  layer's output; a heat-map is its mean over channels (after the ReLU that follows it in SB3's
  NatureCNN, i.e. what the next layer receives), normalised to its own range at that step.
- **Training curve.** Mean training score against timesteps up to this checkpoint, from the
  metrics DB, with a marker at the checkpoint ("now").

One forward pass per agent step both chooses the action (the same argmax, or the same sample from
the same distribution, as SB3's ``predict``) and fills the panels, so the video plays exactly the
game the ``single`` layout plays with the same seed. Frames between agent steps reuse the panels;
static parts (titles, labels, the training curve) are drawn once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from retroml.video.frames import Frame, Inspection, MilestoneLabel
from retroml.video.hud import ACCENT, BACKGROUND, MUTED, TEXT, GamePane, paste, text_image
from retroml.video.playback import EMULATOR_HZ, Playback

SIZE = WIDTH, HEIGHT = 1280, 720
VALUE_SECONDS = 4.0
# Enough to draw a 600-pixel-wide curve faithfully; a long run logs thousands of metrics rows.
CURVE_POINTS = 200
PANEL = (20, 24, 36)
BAR = (70, 92, 150)
GRID = (48, 54, 74)
# Inferno runs from black to pale yellow: a dead layer reads as dark, a busy one as bright.
HEAT = cv2.applyColorMap(np.arange(256, dtype=np.uint8).reshape(-1, 1), cv2.COLORMAP_INFERNO)[:, 0, ::-1].copy()

ScoreKind = Literal["probabilities", "q-values"]


class PolicyInspector:
    """One forward pass of an SB3 model that returns its action and what it computed on the way.

    :param model: a loaded SB3 algorithm: PPO or A2C (actor-critic), DQN, or QR-DQN (sb3-contrib).
    """

    def __init__(self, model: Any) -> None:
        import torch  # here, not at the top: the other layouts import this module and need no torch

        self.model = model
        policy = model.policy
        policy.set_training_mode(False)
        if hasattr(policy, "quantile_net"):
            self.kind: ScoreKind = "q-values"
            extractor = policy.quantile_net.features_extractor
        elif hasattr(policy, "q_net"):
            self.kind = "q-values"
            extractor = policy.q_net.features_extractor
        else:
            self.kind = "probabilities"
            extractor = policy.pi_features_extractor
        self.value_name = "max Q" if self.kind == "q-values" else "V(s)"
        self._outputs: list[Any] = []
        modules = list(extractor.modules())
        convs = [(index, module) for index, module in enumerate(modules) if isinstance(module, torch.nn.Conv2d)]
        self.layers = [
            f"conv{number} · {module.out_channels} × {module.kernel_size[0]}×{module.kernel_size[1]}"
            for number, (_, module) in enumerate(convs, start=1)
        ]
        self._rectified = [
            index + 1 < len(modules) and isinstance(modules[index + 1], torch.nn.ReLU) for index, _ in convs
        ]
        for _, module in convs:
            module.register_forward_hook(self._record)

    def _record(self, module: Any, inputs: Any, output: Any) -> None:
        self._outputs.append(output)

    def inspect(self, observation: np.ndarray, deterministic: bool = True) -> Inspection:
        """The action for ``observation`` (4×84×84 uint8) as ``predict`` would choose it, and what led to it.

        ``deterministic=False`` samples from the actor's distribution (PPO/A2C) with torch's global
        generator, exactly as ``predict`` does; DQN and QR-DQN always take the greedy action here.
        """
        import torch

        policy = self.model.policy
        self._outputs.clear()
        with torch.no_grad():
            obs, _ = policy.obs_to_tensor(observation)
            if self.kind == "probabilities":
                features = policy.extract_features(obs)
                pi_features, vf_features = features if isinstance(features, tuple) else (features, features)
                distribution = policy._get_action_dist_from_latent(policy.mlp_extractor.forward_actor(pi_features))
                value = float(policy.value_net(policy.mlp_extractor.forward_critic(vf_features))[0, 0])
                scores = distribution.distribution.probs[0]
                action = int(distribution.get_actions(deterministic=deterministic)[0])
            else:
                # QR-DQN acts on the mean of each action's quantiles, which is its Q-value.
                quantile_net = getattr(policy, "quantile_net", None)
                scores = (quantile_net(obs).mean(dim=1) if quantile_net is not None else policy.q_net(obs))[0]
                action = int(scores.argmax())
                value = float(scores.max())
            activations = tuple(
                (output.clamp(min=0) if rectified else output)[0].mean(dim=0).numpy()
                for output, rectified in zip(self._outputs, self._rectified, strict=True)
            )
        return Inspection(observation.copy(), action, scores.numpy().copy(), value, activations)


class AnalyticsCanvas:
    """The 1280×720 analytics frame: a :class:`GamePane` on the left, four live panels on the right.

    :param heading: the fixed lines of the game's HUD band.
    :param fps: video frame rate.
    :param meanings: the game's action names (``Playback.meanings``), in action-index order.
    :param kind: ``probabilities`` (PPO/A2C) or ``q-values`` (DQN/QR-DQN): the title and scale of the bars.
    :param value_name: ``V(s)`` or ``max Q``.
    :param layers: one caption per convolution layer (``PolicyInspector.layers``).
    :param label: the checkpoint shown (its timesteps are "now" on the training curve).
    :param curve: the run's ``(timesteps, score_mean)`` points up to this checkpoint.
    :param frameskip: emulator frames per agent step (how many points the value line keeps).
    """

    def __init__(
        self,
        heading: Sequence[str],
        fps: int,
        meanings: Sequence[str],
        kind: ScoreKind,
        value_name: str,
        layers: Sequence[str],
        label: MilestoneLabel,
        curve: Sequence[tuple[int, float]],
        frameskip: int = 4,
    ) -> None:
        self.canvas = np.full((HEIGHT, WIDTH, 3), BACKGROUND, dtype=np.uint8)
        self.game = GamePane(640, HEIGHT, heading, fps)
        self.kind, self.value_name, self.meanings = kind, value_name, list(meanings)
        self.values: deque[float] = deque(maxlen=max(2, round(VALUE_SECONDS * EMULATOR_HZ / frameskip)))
        self._texts: dict[tuple[str, int, tuple[int, int, int]], np.ndarray] = {}
        self._last: Inspection | None = None
        x, width = 652, 616
        self.actions = _Box(x, 8, width, 262)
        self.value = _Box(x, 278, width, 118)
        self.convs = _Box(x, 404, width, 150)
        self.curve = _Box(x, 562, width, 150)
        title = "Action probabilities"
        if kind == "q-values":
            title = "Q-values (bars from lowest to highest; greedy plays the highest)"
        for box, text in (
            (self.actions, title),
            (self.value, f"{value_name} over the last {VALUE_SECONDS:g} s"),
            (self.convs, "Convolution activations (mean over channels)"),
            (self.curve, "Training score (mean) vs timesteps"),
        ):
            box.clear(self.canvas)
            paste(self.canvas, self._text(text, 15, MUTED), box.x + 8, box.y + 4)
        self._layout_actions()
        self._layout_convs(layers)
        draw_curve(self.canvas, self.curve, curve, label.timesteps, self._text)

    @classmethod
    def for_playback(
        cls, playback: Playback, heading: Sequence[str], label: MilestoneLabel, curve: Sequence[tuple[int, float]]
    ) -> AnalyticsCanvas:
        """A canvas for ``playback``, whose actions a :class:`PolicyInspector` now chooses (and records)."""
        inspector = playback.inspector = PolicyInspector(playback.policy)
        return cls(
            heading,
            playback.fps,
            playback.meanings,
            inspector.kind,
            inspector.value_name,
            inspector.layers,
            label,
            curve,
            playback.game.frameskip,
        )

    # Per frame ------------------------------------------------------------------------------------
    def draw(self, frame: Frame) -> np.ndarray:
        """The analytics frame for ``frame`` (a view of an internal buffer, valid until the next call)."""
        self.canvas[:, :640] = self.game.draw(frame)
        inspection = frame.inspection
        if inspection is not None and inspection is not self._last:
            # A new agent step: the panels change only here, once per frame-skip.
            self._last = inspection
            self.values.append(inspection.value)
            self._draw_actions(inspection)
            self._draw_value()
            self._draw_convs(inspection)
        return self.canvas

    def _text(self, text: str, size: int, color: tuple[int, int, int]) -> np.ndarray:
        """``text`` on the panel colour, rendered once and kept (numbers repeat: bars, axes, values)."""
        key = (text, size, color)
        image = self._texts.get(key)
        if image is None:
            if len(self._texts) > 2048:
                self._texts.clear()
            image = self._texts[key] = text_image(text, size, color, PANEL)
        return image

    # Actions ----------------------------------------------------------------------------------------
    def _layout_actions(self) -> None:
        box = self.actions
        top = box.y + 28
        self.row_height = max(10, min(28, (box.y + box.height - 4 - top) // max(1, len(self.meanings))))
        self.row_tops = [top + index * self.row_height for index in range(len(self.meanings))]
        self.label_size = max(9, min(15, self.row_height - 6))
        self.bar_x, self.bar_width = box.x + 150, box.width - 150 - 80
        for meaning, y in zip(self.meanings, self.row_tops, strict=True):
            paste(self.canvas, self._text(meaning, self.label_size, TEXT), box.x + 8, y + 1)

    def _draw_actions(self, inspection: Inspection) -> None:
        scores = inspection.scores
        if self.kind == "probabilities":
            fractions = np.clip(scores, 0.0, 1.0)
        else:
            low, high = float(scores.min()), float(scores.max())
            fractions = (scores - low) / (high - low) if high > low else np.ones_like(scores)
        bar_height = max(4, self.row_height - 6)
        for index, (y, fraction) in enumerate(zip(self.row_tops, fractions, strict=True)):
            chosen = index == inspection.action
            top = y + (self.row_height - bar_height) // 2
            self.canvas[y : y + self.row_height, self.bar_x - 4 : self.actions.x + self.actions.width - 4] = PANEL
            self.canvas[top : top + bar_height, self.bar_x : self.bar_x + self.bar_width] = GRID
            filled = round(float(fraction) * self.bar_width)
            self.canvas[top : top + bar_height, self.bar_x : self.bar_x + filled] = ACCENT if chosen else BAR
            number = f"{scores[index]:.2f}" if self.kind == "probabilities" else _signed(float(scores[index]))
            patch = self._text(number, self.label_size, ACCENT if chosen else MUTED)
            paste(self.canvas, patch, self.bar_x + self.bar_width + 8, y + 1)
            marker = ACCENT if chosen else PANEL
            self.canvas[y + 2 : y + self.row_height - 2, self.actions.x + 2 : self.actions.x + 5] = marker

    # Value ------------------------------------------------------------------------------------------
    def _draw_value(self) -> None:
        box = self.value
        area = self.canvas[box.y + 26 : box.y + box.height - 6, box.x + 8 : box.x + box.width - 140]
        area[:] = PANEL
        height, width = area.shape[:2]
        values = np.fromiter(self.values, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        span = high - low if high > low else 1.0
        # The line fills from the left and scrolls once the window is full.
        xs = np.round(np.arange(len(values)) * (width - 1) / ((self.values.maxlen or 2) - 1)).astype(np.int32)
        ys = np.round((height - 1) - (values - low) / span * (height - 1)).astype(np.int32)
        if high == low:
            ys[:] = height // 2
        cv2.polylines(area, [np.stack([xs, ys], axis=1)], isClosed=False, color=ACCENT, thickness=2)
        for text, y in ((_signed(high), 0), (_signed(low), height - 14)):
            paste(area, self._text(text, 11, MUTED), 2, max(0, y))
        self.canvas[box.y + 26 : box.y + box.height - 6, box.x + box.width - 132 : box.x + box.width - 4] = PANEL
        paste(self.canvas, self._text(_signed(float(values[-1])), 26, ACCENT), box.x + box.width - 128, box.y + 44)

    # Convolutions -------------------------------------------------------------------------------------
    def _layout_convs(self, layers: Sequence[str]) -> None:
        box = self.convs
        count = max(1, len(layers))
        self.tile = min(box.height - 50, (box.width - 16) // count - 12)
        step = (box.width - 16) // count
        self.tile_xs = [box.x + 8 + index * step + (step - self.tile) // 2 for index in range(len(layers))]
        self.tile_y = box.y + 26
        for layer, x in zip(layers, self.tile_xs, strict=True):
            paste(self.canvas, self._text(layer, 11, MUTED), x, self.tile_y + self.tile + 4)

    def _draw_convs(self, inspection: Inspection) -> None:
        for activation, x in zip(inspection.activations, self.tile_xs, strict=False):
            low, high = float(activation.min()), float(activation.max())
            scaled = (activation - low) * (255.0 / (high - low)) if high > low else np.zeros_like(activation)
            heat = HEAT[scaled.astype(np.uint8)]
            tile = cv2.resize(heat, (self.tile, self.tile), interpolation=cv2.INTER_NEAREST)
            self.canvas[self.tile_y : self.tile_y + self.tile, x : x + self.tile] = tile


@dataclass(frozen=True)
class _Box:
    """A panel's rectangle on the canvas."""

    x: int
    y: int
    width: int
    height: int

    def clear(self, canvas: np.ndarray) -> None:
        canvas[self.y : self.y + self.height, self.x : self.x + self.width] = PANEL


def _panel_text(words: str, size: int, color: tuple[int, int, int]) -> np.ndarray:
    return text_image(words, size, color, PANEL)


def draw_curve(
    canvas: np.ndarray,
    box: _Box | tuple[int, int, int, int],
    curve: Sequence[tuple[int, float]],
    now: int,
    text: Any = None,
) -> None:
    """The training curve up to ``now`` with a marker at ``now`` (drawn once: it does not change in a segment).

    :param box: the panel, or ``(x, y, width, height)``.
    :param text: draws a label (``text, size, colour`` → image); on the panel colour by default.
    """
    if not isinstance(box, _Box):
        box = _Box(*box)
    if text is None:
        box.clear(canvas)
        text = _panel_text
    left, top = box.x + 64, box.y + 28
    right, bottom = box.x + box.width - 16, box.y + box.height - 24
    if not curve:
        paste(canvas, text("no episode finished yet", 14, TEXT), left + 8, (top + bottom) // 2)
        return
    steps = np.array([point[0] for point in curve], dtype=np.float64)
    scores = np.array([point[1] for point in curve], dtype=np.float64)
    last_step = max(float(now), float(steps.max()), 1.0)
    low, high = float(scores.min()), float(scores.max())
    if high == low:
        low, high = low - 1.0, high + 1.0
    xs = np.round(left + steps / last_step * (right - left)).astype(np.int32)
    ys = np.round(bottom - (scores - low) / (high - low) * (bottom - top)).astype(np.int32)
    cv2.rectangle(canvas, (left, top), (right, bottom), GRID, thickness=1)
    cv2.polylines(canvas, [np.stack([xs, ys], axis=1)], isClosed=False, color=TEXT, thickness=2, lineType=cv2.LINE_AA)
    now_x = round(left + now / last_step * (right - left))
    cv2.line(canvas, (now_x, top), (now_x, bottom), ACCENT, thickness=1)
    cv2.circle(canvas, (int(xs[-1]), int(ys[-1])), 5, ACCENT, thickness=-1, lineType=cv2.LINE_AA)
    paste(canvas, text(f"{high:,.1f}", 11, MUTED), box.x + 6, top - 6)
    paste(canvas, text(f"{low:,.1f}", 11, MUTED), box.x + 6, bottom - 8)
    paste(canvas, text("0", 11, MUTED), left, bottom + 4)
    steps_text = text(f"now: {now:,} steps", 11, ACCENT)
    paste(canvas, steps_text, max(left, min(now_x - steps_text.shape[1] // 2, right - steps_text.shape[1])), bottom + 4)


def _signed(number: float) -> str:
    """A value or Q-value with about four significant digits and its sign (they can be negative)."""
    if abs(number) < 10:
        return f"{number:+.3f}"
    return f"{number:+,.1f}" if abs(number) < 10_000 else f"{number:+,.0f}"


def analytics_heading(game_title: str, algo: str, label: MilestoneLabel) -> list[str]:
    """The fixed lines of the analytics game pane (shorter than the single layout's: the pane is 640 wide)."""
    return [
        f"{game_title}  ·  {algo.upper()}  ·  {label.trained_text}",
        f"{label.timesteps:,} steps  ·  {label.training_episodes:,} training episodes",
    ]


def training_curve(
    rows: Iterable[Mapping[str, Any]], until: int, points: int = CURVE_POINTS
) -> tuple[tuple[int, float], ...]:
    """``(timesteps, score_mean)`` of the metrics ``rows`` up to ``until`` timesteps, thinned to ``points``.

    Rows before any finished episode (``score_mean`` is ``None``) are left out; thinning keeps the
    first and the last point.
    """
    curve = [
        (int(row["timesteps"]), float(row["score_mean"]))
        for row in rows
        if row["score_mean"] is not None and row["timesteps"] <= until
    ]
    if len(curve) <= points:
        return tuple(curve)
    keep = np.unique(np.round(np.linspace(0, len(curve) - 1, points)).astype(int))
    return tuple(curve[index] for index in keep)
