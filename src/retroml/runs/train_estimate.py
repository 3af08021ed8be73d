"""How long training will take on this machine: measured by every real run, shown before Start.

Every training leg that ends records what it measured — timesteps per second over its training
(collect + update cycles, milestone saves included) and the seconds around it (process start,
imports, emulators, model; the final checkpoint) — keyed by algorithm, environments and device, in
``<home>/calibration.json`` beside the render measurements (:mod:`retroml.calibration`),
blended with earlier legs so one odd run does not swing it. An estimate uses the measurement of the
same settings; else one of the same algorithm and device with the nearest environment count; else a
first guess from the rates measured on the reference machine below, labelled as such — and a face
that shows a first guess starts a short probe of this machine (:mod:`retroml.runs.train_probe`),
whose measurement serves until the first real leg replaces it.

The game is not part of the key: the network update (the same for every game) is 70 % of PPO's
wall time here, and ALE games differ far less than algorithms do.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from retroml.calibration import read_entries, read_measurement, record_measurement, write_entry
from retroml.config import (
    GPU_SPEEDUP_GUESS,
    REFERENCE_CORES,
    REFERENCE_STEPS_PER_SEC,
    ZOO_ATARI_DEFAULTS,
    RunConfig,
)  # fmt: skip
from retroml.engine.devices import detected_devices, resolve_device
from retroml.runs.model import duration_text

# A leg shorter than this measures little more than its first rollout: it refines nothing. (A
# 4,000-step tiny PPO run trains for a few seconds on a quiet 2-core machine: that one counts.)
MIN_MEASURED_SECONDS = 1.0

# The first guess, before this machine trained anything: the rates of the reference machine
# (config.REFERENCE_STEPS_PER_SEC, the presets' stated times too) and the seconds a run spends
# starting (imports, emulators, model) and saving.
FIRST_GUESS_STARTUP_SECONDS = 8.0


@dataclass(frozen=True)
class TrainSpeed:
    """What training measured on this machine for one algorithm, environment count and device.

    :param steps_per_sec: timesteps per second over the legs' training, milestone saves included.
    :param startup_seconds: wall seconds of a leg outside training (start-up, the final save).
    :param legs: how many legs the measurement blends; 0 for a probe's (:mod:`retroml.runs.train_probe`).
    """

    steps_per_sec: float
    startup_seconds: float
    legs: int = 1


class TrainingEstimate(BaseModel):
    """How long training a run's budget takes on this machine, before it starts."""

    seconds: float = Field(description="Estimated wall seconds from Start to the end of training (no render).")
    text: str = Field(description='As every face shows it: "≈ 2 h 10 min on this machine".')
    basis: str = Field(description="measured | probe | nearest | first guess: where the speed comes from.")
    note: str = Field(description="Where the speed comes from, in words.")
    device: str = Field(description="The device the run would train on here (cpu or cuda:N).")
    steps_per_sec: float = Field(description="The training speed the estimate assumes.")
    probing: bool = Field(False, description="A probe is measuring this machine now: ask again in half a minute.")


def _device_kind(device: str) -> str:
    # GPUs of one machine are alike far more often than not; one measurement serves cuda:0 and cuda:1.
    return "cuda" if device.startswith("cuda") else "cpu"


def _key(algo: str, n_envs: int, device: str) -> str:
    return f"train:{algo}:{n_envs}:{_device_kind(device)}"


def measured_speed(home: Path, algo: str, n_envs: int, device: str) -> TrainSpeed | None:
    """The blended measurement for these settings, or ``None`` before the first such leg."""
    return read_measurement(home, _key(algo, n_envs, device), TrainSpeed)


def record_leg(
    home: Path, algo: str, n_envs: int, device: str, timesteps: int, train_seconds: float, wall_seconds: float
) -> TrainSpeed | None:
    """Blend a finished leg's measured speed into the calibration; a short leg is not recorded."""
    if timesteps <= 0 or train_seconds < MIN_MEASURED_SECONDS:
        return None
    measured = TrainSpeed(timesteps / train_seconds, max(wall_seconds - train_seconds, 0.0))
    key = _key(algo, n_envs, device)
    before = read_measurement(home, key, TrainSpeed)
    if before is not None and before.legs == 0:
        # A real leg knows better than the probe: it replaces it rather than blending with it.
        write_entry(home, key, asdict(measured), "the training leg's measured speed")
        return measured
    return record_measurement(home, key, measured, "the training leg's measured speed")


def record_probe(home: Path, algo: str, n_envs: int, device: str, steps_per_sec: float) -> None:
    """Record a probe's speed, unless a real leg measured these settings already."""
    key = _key(algo, n_envs, device)
    before = read_measurement(home, key, TrainSpeed)
    if before is None or before.legs == 0:
        probed = TrainSpeed(steps_per_sec, FIRST_GUESS_STARTUP_SECONDS, legs=0)
        write_entry(home, key, asdict(probed), "the probe's measured speed")


def _nearest(home: Path, algo: str, n_envs: int, device: str) -> tuple[int, TrainSpeed] | None:
    """A measurement of the same algorithm and device with another environment count, the nearest one."""
    found = []
    for key, entry in read_entries(home, f"train:{algo}:").items():
        _train, _algo, envs, kind = key.split(":")
        if kind == _device_kind(device) and envs.isdigit():
            try:
                found.append((abs(int(envs) - n_envs), int(envs), TrainSpeed(**entry)))
            except TypeError:
                continue
    if not found:
        return None
    _distance, nearest_envs, speed = min(found, key=lambda item: item[:2])
    return nearest_envs, speed


def _first_guess(algo: str, device: str) -> TrainSpeed:
    cores = os.cpu_count() or REFERENCE_CORES
    # More cores help the update and the emulators, less than linearly; never guess slower than the reference.
    rate = REFERENCE_STEPS_PER_SEC[algo] * max(1.0, (cores / REFERENCE_CORES) ** 0.5)
    if _device_kind(device) == "cuda":
        rate *= GPU_SPEEDUP_GUESS
    return TrainSpeed(rate, FIRST_GUESS_STARTUP_SECONDS, legs=0)


def estimate_training(
    home: Path, config: RunConfig, budget: int | None = None, probe: bool = False
) -> TrainingEstimate:
    """How long ``config`` (or ``budget`` timesteps of it) trains here; refuses a device this machine lacks.

    With ``probe``, a first guess starts a probe of this machine in the background
    (:func:`retroml.runs.train_probe.start_probe`) for the next estimate to use — a form asks with it;
    the CLI, about to train and measure for real, does not.

    Raises :class:`retroml.errors.InvalidInputError` for a GPU this machine does not have, as creating
    the run would.
    """
    train = config.train
    device = resolve_device(train.device)
    n_envs = train.n_envs or int(ZOO_ATARI_DEFAULTS[train.algo]["n_envs"])
    timesteps = train.total_timesteps if budget is None else budget
    kind = "GPU" if device.startswith("cuda") else "CPU"
    speed = measured_speed(home, train.algo, n_envs, device)
    probing = False
    if speed is not None and speed.legs == 0:
        basis = "probe"
        algo = train.algo.upper()
        note = f"measured by a short probe of {algo} with {n_envs} envs on this {kind}; the first run refines it"
    elif speed is not None:
        basis = "measured"
        legs = f"{speed.legs} run{'s' if speed.legs > 1 else ''}"
        note = f"measured on this machine over {legs} of {train.algo.upper()} with {n_envs} envs on the {kind}"
    elif (nearest := _nearest(home, train.algo, n_envs, device)) is not None:
        basis = "nearest"
        envs, speed = nearest
        algo = train.algo.upper()
        note = f"measured on this machine with {algo} and {envs} envs on the {kind} (not yet with {n_envs})"
    else:
        basis = "first guess"
        speed = _first_guess(train.algo, device)
        where = "scaled from CPU measurements, no GPU run measured" if kind == "GPU" else "no run measured"
        note = f"a first guess: {where} on this machine yet; the first real run measures it"
        from retroml.runs.train_probe import probe_running, start_probe

        probing = (probe and start_probe(home, config)) or probe_running(home)
        if probing:
            note = f"a first guess: {where} on this machine yet; a short probe is measuring it now"
    seconds = speed.startup_seconds + timesteps / speed.steps_per_sec
    return TrainingEstimate(
        probing=probing,
        seconds=seconds,
        text=f"≈ {estimate_duration(seconds)} on this machine",
        basis=basis,
        note=note,
        device=device,
        steps_per_sec=speed.steps_per_sec,
    )


def estimate_duration(seconds: float) -> str:
    """A duration at the precision an estimate has: ``2.5 days``, ``2 h 10 min``, ``14 min``, ``40 s``."""
    if seconds >= 48 * 3600:
        return f"{seconds / 86_400:.1f} days"
    if seconds >= 3600:
        # Ten hours and more: to ten minutes; an hour and more: to the minute.
        step = 600 if seconds >= 36_000 else 60
        return duration_text(round(seconds / step) * step)
    if seconds >= 600:
        return f"{round(seconds / 60)} min"
    return duration_text(round(seconds / 5) * 5 if seconds >= 60 else max(round(seconds), 1))


class DeviceChoice(BaseModel):
    """A device a run can ask for, as the forms list it."""

    value: str = Field(description="What train.device takes: auto, cpu or cuda:N.")
    label: str = Field(description='As the form shows it: "auto (CPU — no CUDA GPU seen)".')


def device_choices() -> list[DeviceChoice]:
    """``auto`` (saying what it picks here), then every device this machine has."""
    devices = detected_devices()
    gpus = [device for device in devices if device.startswith("cuda")]
    auto = "auto (GPU cuda:0)" if gpus else "auto (CPU — no CUDA GPU seen)"
    return [
        DeviceChoice(value="auto", label=auto),
        *(DeviceChoice(value=device, label="CPU" if device == "cpu" else f"GPU {device}") for device in devices),
    ]
