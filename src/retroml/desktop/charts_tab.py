"""The Charts tab: episode score and loss of the selected run against timesteps, updated live.

The best-score curve is the best game score of the whole run so far (``score_best``, over all legs);
the best episode of each metrics interval (``score_max``) is drawn beside it, named as such.

The curves are drawn with QPainter: two line plots do not justify a plotting dependency, and Qt's
own QtCharts is not part of PySide6-Essentials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from retroml.desktop.poller import Poller
from retroml.runs.service import RunService


@dataclass
class Series:
    """One curve: a name, a colour and its points ``(timesteps, value)``."""

    name: str
    color: str
    points: list[tuple[float, float]] = field(default_factory=list)


class LineChart(QWidget):
    """A minimal line plot: a title, labelled axis extremes, one or more series and a legend."""

    MARGIN = 64
    # The title and the legend each get a row above the plot: a legend inside it hides the curve at
    # the top (the best score always reaches it).
    TOP = 46

    def __init__(self, title: str, series: list[Series], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.series = series
        self.setMinimumHeight(180)

    def clear(self) -> None:
        for series in self.series:
            series.points.clear()
        self.update()

    def point_count(self) -> int:
        return sum(len(series.points) for series in self.series)

    def _bounds(self) -> tuple[float, float, float, float]:
        points = [point for series in self.series for point in series.points]
        xs = [x for x, _ in points]
        ys = [y for _, y in points]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min(ys), max(ys)
        if x1 == x0:
            x1 = x0 + 1
        if y1 == y0:
            y0, y1 = y0 - 1, y1 + 1
        return x0, x1, y0, y1

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#1e1f24"))
        painter.setPen(QColor("#e0e0e0"))
        painter.drawText(QRectF(0, 4, self.width(), 20), Qt.AlignmentFlag.AlignHCenter, self.title)
        plot = QRectF(self.MARGIN, self.TOP, self.width() - self.MARGIN - 16, self.height() - self.TOP - 28)
        painter.setPen(QColor("#666"))
        painter.drawRect(plot)
        if self.point_count() == 0:
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "no data yet")
            painter.end()
            return
        x0, x1, y0, y1 = self._bounds()
        painter.setPen(QColor("#aaa"))
        painter.drawText(QRectF(0, plot.top() - 8, self.MARGIN - 4, 16), Qt.AlignmentFlag.AlignRight, f"{y1:.3g}")
        painter.drawText(QRectF(0, plot.bottom() - 8, self.MARGIN - 4, 16), Qt.AlignmentFlag.AlignRight, f"{y0:.3g}")
        painter.drawText(QRectF(plot.left(), plot.bottom() + 2, 100, 16), Qt.AlignmentFlag.AlignLeft, f"{x0:,.0f}")
        painter.drawText(
            QRectF(plot.right() - 140, plot.bottom() + 2, 140, 16), Qt.AlignmentFlag.AlignRight, f"{x1:,.0f} steps"
        )

        def to_screen(x: float, y: float) -> QPointF:
            return QPointF(
                plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                plot.bottom() - (y - y0) / (y1 - y0) * plot.height(),
            )

        legend_x = plot.left() + 10
        for series in self.series:
            if not series.points:
                continue
            painter.setPen(QPen(QColor(series.color), 2))
            painter.drawPolyline(QPolygonF([to_screen(x, y) for x, y in series.points]))
            painter.drawText(QPointF(legend_x, plot.top() - 8), series.name)
            legend_x += painter.fontMetrics().horizontalAdvance(series.name) + 16
        painter.end()


# The metrics columns each curve plots, and how its legend names it.
SCORE_SERIES = (
    ("score_mean", "mean score (last 100)", "#4fc3f7"),
    ("score_best", "best score (whole run)", "#ffb74d"),
    ("score_max", "best episode in interval", "#8d6e63"),
)
LOSS_SERIES = (("loss", "loss", "#e57373"), ("value_loss", "value loss", "#81c784"))


@dataclass(frozen=True)
class MetricsView:
    """New metrics rows of a run, read on the poller's worker thread."""

    run_id: str
    leg: int
    since_id: int  # the rows are after this id (0: all, when the leg changed)
    rows: list[dict[str, Any]]


def read_metrics(service: RunService, run_id: str, leg: int | None, since_id: int) -> MetricsView:
    """The rows after ``since_id``, or all of them once the run is on another leg than ``leg`` (blocking)."""
    now = service.get(run_id).leg
    since_id = since_id if now == leg else 0
    return MetricsView(run_id, now, since_id, service.metrics(run_id, since_id=since_id))


class ChartsTab(QWidget):
    """Score and loss curves of the selected run; each refresh fetches only the new metrics rows.

    A continued run hides the metrics rows its new leg supersedes, so a new leg redraws from the start.
    """

    def __init__(self, service: RunService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.run_id: str | None = None
        self._last_metric_id = 0
        self._rows = 0
        self._leg: int | None = None
        self.poller = Poller(self)
        self.poller.fetched.connect(self._show)
        self.score = LineChart("Episode score", [Series(name, color) for _key, name, color in SCORE_SERIES], self)
        self.loss = LineChart("Loss", [Series(name, color) for _key, name, color in LOSS_SERIES], self)
        self.note = QLabel("Select a run in the Runs tab.")
        self.poller.failed.connect(self.note.setText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.score, 1)
        layout.addWidget(self.loss, 1)

    def show_run(self, run_id: str | None) -> None:
        if run_id == self.run_id:
            return
        self.run_id = run_id
        self._restart()
        self.refresh(after_current=True)

    def _restart(self, leg: int | None = None) -> None:
        self._leg = leg
        self._last_metric_id = 0
        self._rows = 0
        self.score.clear()
        self.loss.clear()

    def refresh(self, after_current: bool = False) -> None:
        """Read the selected run's new metrics rows on the worker thread; they are drawn when they arrive."""
        if self.run_id is None:
            self.note.setText("Select a run in the Runs tab.")
            return
        service, run_id, leg, since = self.service, self.run_id, self._leg, self._last_metric_id
        self.poller.poll(lambda: read_metrics(service, run_id, leg, since), after_current)

    def _show(self, view: MetricsView) -> None:
        if view.run_id != self.run_id or (view.leg == self._leg and view.since_id != self._last_metric_id):
            return  # read for another run, or before rows drawn since
        if view.leg != self._leg:
            self._restart(view.leg)  # a new leg superseded rows: draw its curve from the start
        rows = view.rows
        if rows:
            self._add(rows)
        self._rows += len(rows)
        self.note.setText(f"{self._rows} metrics rows of {self.run_id} (score appears once episodes end)")

    def _add(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._last_metric_id = max(self._last_metric_id, int(row["id"]))
            step = float(row["timesteps"])
            keys = [key for key, _name, _color in (*SCORE_SERIES, *LOSS_SERIES)]
            for series, key in zip([*self.score.series, *self.loss.series], keys, strict=True):
                if row.get(key) is not None:
                    series.points.append((step, float(row[key])))
        self.score.update()
        self.loss.update()
