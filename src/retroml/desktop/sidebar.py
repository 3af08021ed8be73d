"""The sidebar: the Start Training button and this machine's status (CPU, memory, disk, GPU)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFrame, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from retroml.desktop.prompts import plural

GIB = 1024**3


def _bar() -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, 100)
    bar.setTextVisible(True)
    return bar


class Sidebar(QFrame):
    """Start Training, and the figures of :meth:`RunService.system_status` refreshed by the main window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedWidth(230)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.start_button = QPushButton("▶  Start Training")
        self.start_button.setMinimumHeight(40)
        self.start_button.setStyleSheet("font-weight: bold;")
        self.cpu = _bar()
        self.memory = _bar()
        self.disk = _bar()
        self.cpu_label = QLabel("CPU")
        self.memory_label = QLabel("Memory")
        self.disk_label = QLabel("Disk")
        self.gpu_label = QLabel("GPU: —")
        self.runs_label = QLabel("Training now: —")
        self.rendering_label = QLabel()
        self.rendering_label.setVisible(False)
        self.home_label = QLabel()
        self.home_label.setWordWrap(True)
        self.home_label.setStyleSheet("color: gray;")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>RetroML</b>"))
        layout.addWidget(self.start_button)
        layout.addSpacing(12)
        for label, bar in ((self.cpu_label, self.cpu), (self.memory_label, self.memory), (self.disk_label, self.disk)):
            layout.addWidget(label)
            layout.addWidget(bar)
        layout.addWidget(self.gpu_label)
        layout.addWidget(self.runs_label)
        layout.addWidget(self.rendering_label)
        layout.addStretch(1)
        layout.addWidget(QLabel("Data home:"))
        layout.addWidget(self.home_label)

    def show_status(self, status: dict[str, Any], training: int, rendering: int = 0) -> None:
        """Show ``status``, and how many runs a live process trains (or holds paused) and renders."""
        self.cpu_label.setText(f"CPU ({status['cpu_count']} cores)")
        self.cpu.setValue(int(status["cpu_percent"]))
        used, total = status["memory_used"] / GIB, status["memory_total"] / GIB
        self.memory_label.setText(f"Memory {used:.1f} of {total:.1f} GiB")
        self.memory.setValue(int(status["memory_percent"]))
        self.disk_label.setText(f"Disk {status['disk_free'] / GIB:.0f} GiB free")
        self.disk.setValue(int(status["disk_percent"]))
        gpu = status.get("gpu")
        self.gpu_label.setText(f"GPU: {gpu}" if gpu else "GPU: none (training on the CPU)")
        self.runs_label.setText(f"Training now: {plural(training, 'run')}")
        self.rendering_label.setText(f"Rendering now: {plural(rendering, 'run')}")
        self.rendering_label.setVisible(bool(rendering))
        self.home_label.setText(str(status["home"]))
