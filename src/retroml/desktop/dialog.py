"""The Start Training dialog: a preset, the game and budget, recording or Fast Mode; it starts the run.

The config is built with :func:`retroml.config.build_config`, the same validation as the CLI and the
web app, so a run started here is the same as ``retroml train … [--fast]``. A value the config refuses
is shown as one sentence under the form and the dialog stays open.
"""

from __future__ import annotations

import os
import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from retroml.config import (
    ALGOS, PRESETS, RunConfig, TrainConfig, apply_assignment, build_config, parse_budget, preset_config,
)  # fmt: skip
from retroml.errors import InvalidInputError, RetroMLError
from retroml.games import all_games
from retroml.runs.model import Run
from retroml.runs.service import RunService

FAST_MODE_TRADE_OFF = (
    "Fast Mode trains at full speed with no live clips and no time-lapse; the learning journey is "
    "rendered from the checkpoints when training ends."
)
# Frames per wall-clock second the training time-lapse captures when the box is checked.
TIMELAPSE_FPS = 2.0


def _limits(field: str) -> tuple[int, int]:
    """The ``ge``/``le`` bounds the config schema puts on a ``train`` field."""
    metadata = TrainConfig.model_fields[field].metadata
    low = next(int(item.ge) for item in metadata if getattr(item, "ge", None) is not None)
    high = next(int(item.le) for item in metadata if getattr(item, "le", None) is not None)
    return low, high


ENVS_LIMITS = _limits("n_envs")


def parse_envs(text: str) -> int:
    """The Environments field as an int within the schema's limits; a sentence if it is not."""
    low, high = ENVS_LIMITS
    what = f"write {low} to {high}, or leave it empty for the algorithm's default"
    if not re.fullmatch(r"[+-]?\d+", text):
        raise InvalidInputError(f"environments '{text}' is not a whole number; {what}")
    if not low <= int(text) <= high:
        raise InvalidInputError(f"environments {text} is out of range; {what}")
    return int(text)


class StartTrainingDialog(QDialog):
    """Pick a preset, game, algorithm and budget, then Start: the run is created and launched.

    :param service: the run service the run is created with.
    :param parent: the main window.

    After ``accept()``, :attr:`created_run` holds the new run.
    """

    def __init__(self, service: RunService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.created_run: Run | None = None
        self.setWindowTitle("Start Training")
        self.setMinimumWidth(560)

        self.preset = QComboBox()
        for key, preset in PRESETS.items():
            self.preset.addItem(str(preset["title"]), key)
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setPlaceholderText("automatic: <game>-<algo>-<date>")
        self.game = QComboBox()
        for game in all_games():
            self.game.addItem(game.title, game.id)
        self.algo = QComboBox()
        for algo in ALGOS:
            self.algo.addItem(algo.upper(), algo)
        self.timesteps = QLineEdit()
        # A line, not a spin box: a spin box silently turns "-4" into 4 and "999" into 99.
        low, high = ENVS_LIMITS
        self.n_envs = QLineEdit()
        self.n_envs.setPlaceholderText(f"algorithm default ({low}–{high})")
        self.n_envs.setToolTip(f"Parallel emulators, {low} to {high}; empty: the algorithm's default")
        self.n_threads = QSpinBox()
        self.n_threads.setRange(1, 256)
        self.n_threads.setValue(os.cpu_count() or 1)
        self.recording = QCheckBox("Training video recording")
        self.recording.setChecked(True)
        self._recording_before_fast = True
        self.clip_seconds = QDoubleSpinBox()
        self.clip_seconds.setRange(1, 600)
        self.clip_seconds.setSuffix(" s")
        self.clip_seconds.setValue(10)
        self.timelapse = QCheckBox(f"Training time-lapse ({TIMELAPSE_FPS:g} frames/s of the agent's view)")
        self.timelapse.setToolTip("Captured off the training path; render it later as a time-lapse video")
        self._timelapse_before_fast = False
        self.journey_length = QLineEdit()
        self.journey_length.setPlaceholderText("e.g. 90s, 3m, 1h30m, 10h")
        self.fast_mode = QCheckBox("Fast Mode ⚡")
        self.trade_off = QLabel(FAST_MODE_TRADE_OFF)
        self.trade_off.setWordWrap(True)
        self.trade_off.setVisible(False)
        self.overrides = QLineEdit()
        self.overrides.setPlaceholderText("advanced: train.n_steps=64 train.learning_rate=1e-4")
        # The error line keeps room for two lines even when empty, so the first error does not squeeze
        # the form (and clip the preset note); a longer one grows the dialog.
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d32f2f;")
        self.error.setMinimumHeight(2 * self.fontMetrics().lineSpacing() + 4)
        self.error.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        form = QFormLayout()
        form.addRow("Preset", self.preset)
        form.addRow("", self.preset_note)
        form.addRow("Name", self.name)
        form.addRow("Game", self.game)
        form.addRow("Algorithm", self.algo)
        form.addRow("Total timesteps", self.timesteps)
        form.addRow("Environments", self.n_envs)
        form.addRow("CPU threads", self.n_threads)
        form.addRow(self.recording)
        form.addRow("Clip length", self.clip_seconds)
        form.addRow(self.timelapse)
        form.addRow("Journey length", self.journey_length)
        form.addRow(self.fast_mode)
        form.addRow(self.trade_off)
        form.addRow("Overrides", self.overrides)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.start_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setText("Start")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        self.recording.toggled.connect(self.clip_seconds.setEnabled)
        self.fast_mode.toggled.connect(self._on_fast_mode)
        self.preset.currentIndexChanged.connect(lambda _index: self.apply_preset(self.preset.currentData()))
        self.apply_preset(self.preset.currentData())

    def select_preset(self, key: str) -> None:
        self.preset.setCurrentIndex(self.preset.findData(key))

    def apply_preset(self, key: str) -> None:
        """Fill the form with a preset's values (the fields stay editable)."""
        data = preset_config(key)
        defaults = RunConfig()
        self.clear_error()  # the error was about the values the preset replaces
        self.preset_note.setText(str(PRESETS[key]["description"]))
        self.game.setCurrentIndex(self.game.findData(data.get("game", {}).get("id", defaults.game.id)))
        train = data.get("train", {})
        self.algo.setCurrentIndex(self.algo.findData(train.get("algo", defaults.train.algo)))
        self.timesteps.setText(f"{train.get('total_timesteps', defaults.train.total_timesteps):_}")
        self.n_envs.setText(str(train.get("n_envs") or ""))
        self.journey_length.setText(str(data.get("render", {}).get("length", defaults.render.length)))
        self.fast_mode.setChecked(bool(data.get("fast_mode", False)))
        self._fit()

    def _on_fast_mode(self, fast: bool) -> None:
        # Fast Mode and live recording exclude each other: recording is the speed Fast Mode gives up.
        # The time-lapse films training too, so it goes with it.
        if fast:
            self._recording_before_fast = self.recording.isChecked()
            self.recording.setChecked(False)
            self._timelapse_before_fast = self.timelapse.isChecked()
            self.timelapse.setChecked(False)
        else:
            self.recording.setChecked(self._recording_before_fast)
            self.timelapse.setChecked(self._timelapse_before_fast)
        self.recording.setEnabled(not fast)
        self.timelapse.setEnabled(not fast)
        self.clip_seconds.setEnabled(not fast and self.recording.isChecked())
        self.trade_off.setVisible(fast)
        self._fit()

    def _fit(self) -> None:
        # Wrapped labels change height with their text; let the dialog grow to show them whole.
        layout = self.layout()
        if layout is not None:
            layout.activate()
        self.adjustSize()

    def config_data(self) -> dict[str, Any]:
        """The raw config the form describes (before validation)."""
        train: dict[str, Any] = {
            "algo": self.algo.currentData(),
            "total_timesteps": parse_budget(self.timesteps.text()),
            "n_threads": self.n_threads.value(),
        }
        envs = self.n_envs.text().strip()
        if envs:
            train["n_envs"] = parse_envs(envs)
        data: dict[str, Any] = {
            "game": {"id": self.game.currentData()},
            "train": train,
            "recording": {
                "enabled": self.recording.isChecked(),
                "milestone_clip_seconds": self.clip_seconds.value(),
                "timelapse_fps": TIMELAPSE_FPS if self.timelapse.isChecked() else 0.0,
            },
            "render": {"length": self.journey_length.text().strip() or RunConfig().render.length},
            "fast_mode": self.fast_mode.isChecked(),
        }
        if self.name.text().strip():
            data["name"] = self.name.text().strip()
        for assignment in self.overrides.text().split():
            data = apply_assignment(data, assignment)
        return data

    def build(self) -> RunConfig:
        """The validated config, or an :class:`InvalidInputError` with one sentence."""
        return build_config(self.config_data())

    def show_error(self, message: str) -> None:
        self.error.setText(message[:1].upper() + message[1:])
        self._fit()

    def clear_error(self) -> None:
        self.error.clear()

    def accept(self) -> None:
        """Validate, create and start the run; on a refused value, say why and stay open."""
        try:
            config = self.build()
            self.created_run = self.service.create(config)
        except (RetroMLError, ValueError) as error:
            self.show_error(str(error).splitlines()[0])
            return
        self.clear_error()
        super().accept()
