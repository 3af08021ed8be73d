"""The Start Training dialog: a preset, the game and budget, recording or Fast Mode; it starts the run.

The config is built with :func:`retroml.config.compose`, the same composition as the CLI and the
web app, so a run started here is the same as ``retroml train … [--fast]``. A value the config refuses
is shown as one sentence under the form and the dialog stays open. The devices this machine has and
the training time estimate (:mod:`retroml.runs.train_estimate`) are found off the GUI thread: the
first needs torch imported, the second reads this machine's calibration. The run is created off it
too (the service checks the device and writes the store); Start is disabled until it answers.
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from retroml.config import (
    ALGOS,
    PRESETS,
    SETTING_DESCRIPTIONS,
    RecordingConfig,
    RunConfig,
    TrainConfig,
    compose,
    parse_budget,
    preset_config,
)  # fmt: skip
from retroml.desktop.poller import Actions
from retroml.desktop.prompts import ok_cancel, sentence
from retroml.errors import InvalidInputError, RetroMLError
from retroml.games import all_games
from retroml.runs.model import Run, estimate_sentence
from retroml.runs.service import RunService
from retroml.runs.train_estimate import DeviceChoice, TrainingEstimate, device_choices

FAST_MODE_TRADE_OFF = (
    "Fast Mode trains at full speed with no live clips and no time-lapse; the learning journey is "
    "rendered from the checkpoints when training ends."
)
# Frames per wall-clock second the training time-lapse captures when the box is checked.
TIMELAPSE_FPS = 2.0


# While a probe measures this machine, the estimate is asked again this often (milliseconds).
PROBE_POLL_MS = 5000


def _limits(section: type[BaseModel], field: str) -> tuple[int, int]:
    """The ``ge``/``le`` bounds the config schema puts on a field of ``section``."""
    metadata = section.model_fields[field].metadata
    low = next(int(item.ge) for item in metadata if getattr(item, "ge", None) is not None)
    high = next(int(item.le) for item in metadata if getattr(item, "le", None) is not None)
    return low, high


ENVS_LIMITS = _limits(TrainConfig, "n_envs")


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

    Once the dialog is accepted (its ``accepted`` signal, after the service made the run),
    :attr:`created_run` holds the new run.
    """

    def __init__(self, service: RunService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.created_run: Run | None = None
        self.calls = Actions(self)  # the service creates the run on a worker thread
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
        self.n_envs.setToolTip(f"{SETTING_DESCRIPTIONS['train.n_envs']} {low} to {high}.")
        self.n_threads = QSpinBox()
        self.n_threads.setRange(*_limits(TrainConfig, "n_threads"))
        self.n_threads.setSpecialValueText("one per core")  # 0, as the config reads it
        self.n_threads.setValue(os.cpu_count() or 1)
        self.device = QComboBox()
        self.device.addItem("auto", "auto")
        self.device.setToolTip(SETTING_DESCRIPTIONS["train.device"])
        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        self.estimate.setAccessibleName("Training time estimate")
        self.measure = QPushButton("Measure this machine")
        self.measure.setToolTip("A short real training of this kind of run (under a minute), for the estimates")
        self.measure.setVisible(False)
        self.measure.clicked.connect(lambda: self._ask_estimate(probe=True))
        self.recording = QCheckBox("Training video recording")
        self.recording.setChecked(True)
        self._recording_before_fast = True
        self.clip_seconds = QDoubleSpinBox()
        self.clip_seconds.setRange(*_limits(RecordingConfig, "milestone_clip_seconds"))
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

        # Each field's help is its description in the config schema, as in the web form and `train --help`.
        for widget, setting in (
            (self.name, "name"),
            (self.game, "game.id"),
            (self.algo, "train.algo"),
            (self.timesteps, "train.total_timesteps"),
            (self.n_threads, "train.n_threads"),
            (self.recording, "recording.enabled"),
            (self.clip_seconds, "recording.milestone_clip_seconds"),
            (self.journey_length, "render.length"),
            (self.fast_mode, "fast_mode"),
        ):
            widget.setToolTip(SETTING_DESCRIPTIONS[setting])
        form = QFormLayout()
        form.addRow("Preset", self.preset)
        form.addRow("", self.preset_note)
        form.addRow("Name", self.name)
        form.addRow("Game", self.game)
        form.addRow("Algorithm", self.algo)
        form.addRow("Total timesteps", self.timesteps)
        form.addRow("Environments", self.n_envs)
        # Threads and device share a row: both say where the work runs, and the dialog stays short.
        where = QHBoxLayout()
        where.addWidget(self.n_threads)
        device_label = QLabel("Device")
        device_label.setBuddy(self.device)
        where.addWidget(device_label)
        where.addWidget(self.device, 1)
        form.addRow("CPU threads", where)
        form.addRow(self.recording)
        form.addRow("Clip length", self.clip_seconds)
        form.addRow(self.timelapse)
        form.addRow("Journey length", self.journey_length)
        form.addRow(self.fast_mode)
        form.addRow(self.trade_off)
        form.addRow("Overrides", self.overrides)
        buttons, self.start_button = ok_cancel(self, "Start")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        # The estimate sits beside Start: what pressing it will cost.
        bottom = QHBoxLayout()
        bottom.addWidget(self.estimate, 1)
        bottom.addWidget(self.measure)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)

        self.recording.toggled.connect(self.clip_seconds.setEnabled)
        self.fast_mode.toggled.connect(self._on_fast_mode)
        self.preset.currentIndexChanged.connect(lambda _index: self.apply_preset(self.preset.currentData()))
        self.apply_preset(self.preset.currentData())

        # One worker thread: the device list first (torch's import), then each estimate in turn.
        self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="training-estimate")
        self._devices: Future[list[DeviceChoice]] | None = self._work.submit(device_choices)
        self._estimate: tuple[str, Future[TrainingEstimate]] | None = None
        self._estimate_timer = QTimer(self, singleShot=True, interval=500)
        self._estimate_timer.timeout.connect(self._ask_estimate)
        self._probe_timer = QTimer(self, singleShot=True, interval=PROBE_POLL_MS)
        self._probe_timer.timeout.connect(self._ask_estimate)
        self._poll = QTimer(self, interval=100)
        self._poll.timeout.connect(self._collect)
        self._poll.start()
        for signal in (self.game.currentIndexChanged, self.algo.currentIndexChanged, self.device.currentIndexChanged):
            signal.connect(lambda _index: self._estimate_timer.start())
        for line in (self.timesteps, self.n_envs, self.overrides):
            line.textChanged.connect(lambda _text: self._estimate_timer.start())
        self._estimate_timer.start()

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

    def _estimate_key(self) -> str | None:
        """The config the estimate is of, as text (``None`` while the form does not describe a valid run)."""
        try:
            return json.dumps(self.build().model_dump(mode="json"), sort_keys=True)
        except (RetroMLError, ValueError):
            return None

    def _ask_estimate(self, probe: bool = False) -> None:
        key = self._estimate_key()
        if key is None:
            self.estimate.clear()
            self.measure.setVisible(False)
            return
        config = RunConfig.model_validate(json.loads(key))
        self._estimate = (key, self._work.submit(self.service.training_estimate, config, probe))

    def _collect(self) -> None:
        """Show what the worker thread finished: the device list, then the estimate of the current values."""
        if self._devices is not None and self._devices.done():
            devices, self._devices = self._devices, None
            try:
                self._fill_devices(devices.result())
            except Exception as error:  # torch failed to load: auto stays the one choice, and says why
                self.device.setToolTip(f"Could not list the devices: {error}")
        if self._estimate is None or not self._estimate[1].done():
            return
        key, future = self._estimate
        self._estimate = None
        if key != self._estimate_key():
            return  # the values changed meanwhile; their own estimate follows
        try:
            estimate = future.result()
        except (RetroMLError, ValueError) as error:
            self.estimate.setText(sentence(error))
            return
        self.estimate.setText(f"{estimate_sentence(estimate)}.")
        self.measure.setVisible(estimate.basis == "first guess" and not estimate.probing)
        if estimate.probing:
            self._probe_timer.start()  # until the probe's number is in
        self._fit()

    def _fill_devices(self, choices: list[DeviceChoice]) -> None:
        chosen = self.device.currentData()
        self.device.blockSignals(True)
        self.device.clear()
        for choice in choices:
            self.device.addItem(choice.label, choice.value)
        self.device.setCurrentIndex(max(self.device.findData(chosen), 0))
        self.device.blockSignals(False)

    def done(self, result: int) -> None:
        self._poll.stop()
        self._estimate_timer.stop()
        self._work.shutdown(wait=False, cancel_futures=True)
        super().done(result)

    def config_data(self) -> dict[str, Any]:
        """What the form's own fields say, nested as the config is (before the preset and overrides)."""
        train: dict[str, Any] = {
            "algo": self.algo.currentData(),
            "total_timesteps": parse_budget(self.timesteps.text()),
            "n_threads": self.n_threads.value(),
            "device": self.device.currentData(),
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
        return data

    def build(self) -> RunConfig:
        """The config composed as every face composes it (preset, fields, overrides), or an
        :class:`InvalidInputError` with one sentence."""
        return compose(self.preset.currentData(), fields=self.config_data(), overrides=self.overrides.text().split())

    def show_error(self, message: str) -> None:
        self.error.setText(sentence(message))
        self._fit()

    def clear_error(self) -> None:
        self.error.clear()

    def accept(self) -> None:
        """Validate, then create and start the run on the worker thread; on a refused value, say why and stay open."""
        if self.calls.running("create"):
            return
        try:
            config = self.build()
        except (RetroMLError, ValueError) as error:
            self._refused(str(error))
            return
        service = self.service
        self.start_button.setEnabled(False)
        self.calls.run("create", lambda: service.create(config), self._created, self._refused)

    def _created(self, run: Run) -> None:
        self.created_run = run
        self.clear_error()
        super().accept()

    def _refused(self, error: str) -> None:
        self.start_button.setEnabled(True)
        self.show_error(error.splitlines()[0])
