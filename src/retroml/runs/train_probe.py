"""A short measured probe of this machine's training speed, before its first run of a kind.

Before any run of an algorithm, environment count and device trained here, an estimate could only
scale the reference machine's rate — 3-10× off on a machine unlike it. The probe trains that
algorithm for real on a few thousand timesteps (the native env, the model a run builds, updates
included: DQN's replay buffer starts learning at once instead of after ``learning_starts``), skips
the first update cycle (oneDNN builds its kernels there) and times the next ones. The speed goes into
``<home>/calibration.json`` marked as a probe (no legs); the first real leg replaces it
(:func:`retroml.runs.train_estimate.record_leg`).

A face that finds only a first guess starts one probe in the background (:func:`start_probe`, one
at a time per home) and says so; ``retroml calibrate`` runs it in the foreground.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from retroml.config import ZOO_ATARI_DEFAULTS, RunConfig, build_config

# Timesteps of the warm-up and of the measured part, per algorithm (about 10-20 s on a 2-core CPU).
WARMUP_STEPS = {"ppo": 1024, "a2c": 400, "dqn": 200, "qrdqn": 200}
MEASURED_STEPS = {"ppo": 2048, "a2c": 2000, "dqn": 800, "qrdqn": 800}
LOCK_FILE = "calibration.probe.lock"


def probe(home: Path, config: RunConfig) -> float:
    """Train ``config``'s algorithm briefly, record its measured timesteps per second and return it."""
    from retroml.engine.algos import build_model
    from retroml.engine.devices import resolve_device
    from retroml.engine.envs import AtariNativeVecEnv
    from retroml.runs.train_estimate import record_probe

    train = config.train
    n_envs = train.n_envs or int(ZOO_ATARI_DEFAULTS[train.algo]["n_envs"])
    env = AtariNativeVecEnv(config.game, n_envs, seed=train.seed)
    try:
        model = build_model(train, env, None)
        warmup, measured = WARMUP_STEPS[train.algo], MEASURED_STEPS[train.algo]
        if hasattr(model, "learning_starts"):
            model.learning_starts = warmup // 2
        model.learn(warmup)
        started = time.perf_counter()
        model.learn(measured, reset_num_timesteps=False)
        seconds = time.perf_counter() - started
    finally:
        env.close()
    # learn() stops at the first whole cycle past the budget: count what it really trained.
    steps_per_sec = (model.num_timesteps - warmup) / seconds
    record_probe(home, train.algo, n_envs, resolve_device(train.device), steps_per_sec)
    return steps_per_sec


def start_probe(home: Path, config: RunConfig) -> bool:
    """Start :func:`probe` in a background process unless one is running for ``home``; ``True`` if started."""
    lock = home / LOCK_FILE
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        if _running(lock):
            return False
        lock.unlink(missing_ok=True)
        return start_probe(home, config)
    train = config.train
    command = [
        sys.executable, "-m", "retroml.runs.train_probe", "--home", str(home), "--game", config.game.id,
        "--algo", train.algo, "--envs", str(train.n_envs or 0), "--device", train.device,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    with os.fdopen(fd, "w") as handle:
        handle.write(str(process.pid))
    return True


def probe_running(home: Path) -> bool:
    """Whether a probe is measuring this machine for ``home`` now."""
    return _running(home / LOCK_FILE)


def _running(lock: Path) -> bool:
    try:
        pid = int(lock.read_text().strip() or 0)
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A finished child of this process stays a zombie until reaped: that is not running.
    try:
        finished, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return finished == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure this machine's training speed for one kind of run.")
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--game", default="breakout")
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("--envs", type=int, default=0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    train: dict[str, object] = {"algo": args.algo, "device": args.device}
    if args.envs:
        train["n_envs"] = args.envs
    try:
        probe(args.home, build_config({"game": {"id": args.game}, "train": train}))
    finally:
        (args.home / LOCK_FILE).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
