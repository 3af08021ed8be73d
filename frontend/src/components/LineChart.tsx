// A line chart in plain SVG: a few series over a shared x axis, with round-number ticks and grid
// lines, axis titles and a hover readout. Enough for training curves without a charting library.
import { useState, type MouseEvent } from "react";
import { readout, tickLabel } from "../format";

export interface Series {
  label: string;
  color: string;
  points: [number, number][];
}

interface Props {
  title: string;
  series: Series[];
  xLabel: string;
  /** What the y axis measures ("score", "loss"); the title when not given. */
  yLabel?: string;
  formatX?: (value: number) => string;
  /** The x range to draw whatever the points cover (e.g. the run's planned timesteps), so charts line up. */
  xDomain?: [number, number];
  /** What the chart says while it has no point. */
  empty?: string;
  /** The drawing's size in SVG units; a chart shown wide (Compare) draws wide, so its text keeps its size. */
  width?: number;
  height?: number;
}

const PAD = { left: 58, right: 14, top: 12, bottom: 42 };
const TICKS = 5;

/** Round-number ticks (1, 2 or 5 × 10^k apart) covering [min, max]; the axis runs from the first to the last. */
export function niceTicks(min: number, max: number, count = TICKS): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    // A flat series (entropy at its maximum, a score stuck at -21) gets a band around its value.
    const half = Math.abs(min) * 0.1 || 1;
    [min, max] = [min - half, max + half];
  }
  const raw = (max - min) / Math.max(count - 1, 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((factor) => factor * magnitude >= raw) ?? 10) * magnitude;
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let value = first; value < max + step - 1e-9 * step; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks.length >= 2 ? ticks : [first, first + step];
}

export function LineChart({
  title,
  series,
  xLabel,
  yLabel,
  formatX,
  xDomain,
  empty = "No data yet.",
  width = 480,
  height = 220,
}: Props) {
  const [hoverX, setHoverX] = useState<number | null>(null);
  const lines = series.map((line) => ({
    ...line,
    points: line.points.filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py)),
  }));
  const all = lines.flatMap((line) => line.points);
  const pointCount = all.length;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [dataMinX, dataMaxX] = pointCount ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const [minX, maxX] = xDomain
    ? [Math.min(xDomain[0], dataMinX), Math.max(xDomain[1], pointCount ? dataMaxX : xDomain[1])]
    : [dataMinX, dataMaxX];
  const yTicks = niceTicks(pointCount ? Math.min(...ys) : 0, pointCount ? Math.max(...ys) : 1);
  const [minY, maxY] = [yTicks[0], yTicks[yTicks.length - 1]];
  const yStep = yTicks[1] - yTicks[0];
  // The x axis keeps its exact range (the plan's end at the right edge); its ticks are the round ones inside.
  // With no point and no planned range there is no x scale to show.
  const xTicks =
    pointCount || xDomain
      ? niceTicks(minX, maxX === minX ? minX + 1 : maxX, 6).filter((tick) => tick >= minX && tick <= maxX)
      : [];
  const xStep = xTicks.length > 1 ? xTicks[1] - xTicks[0] : maxX - minX || 1;
  const showX = formatX ?? ((value: number) => tickLabel(value, xStep));
  const spanX = maxX - minX || 1;
  const plotWidth = width - PAD.left - PAD.right;
  const plotBottom = height - PAD.bottom;
  const x = (value: number) => PAD.left + ((value - minX) / spanX) * plotWidth;
  const y = (value: number) => plotBottom - ((value - minY) / (maxY - minY)) * (plotBottom - PAD.top);

  const onMove = (event: MouseEvent<SVGSVGElement>) => {
    if (!pointCount) return;
    const box = event.currentTarget.getBoundingClientRect();
    const svgX = ((event.clientX - box.left) / box.width) * width;
    const value = minX + ((svgX - PAD.left) / plotWidth) * spanX;
    // The nearest x any series has a point at.
    setHoverX(
      xs.reduce((best, candidate) => (Math.abs(candidate - value) < Math.abs(best - value) ? candidate : best)),
    );
  };
  const hovered =
    hoverX === null
      ? []
      : lines
          .filter((line) => line.points.length > 0)
          .map((line) => ({
            line,
            // Each series' point nearest the hovered x (the score is not written with every loss row).
            point: line.points.reduce((best, candidate) =>
              Math.abs(candidate[0] - hoverX) < Math.abs(best[0] - hoverX) ? candidate : best,
            ),
          }));

  return (
    <figure className="chart" data-points={pointCount}>
      <figcaption>
        {title}
        {series.length > 1 && (
          <span className="legend">
            {series.map((line) => (
              <span key={line.label}>
                <i style={{ background: line.color }} /> {line.label}
              </span>
            ))}
          </span>
        )}
      </figcaption>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${title}: ${pointCount} points`}
        onMouseMove={onMove}
        onMouseLeave={() => setHoverX(null)}
      >
        <g className="grid">
          {yTicks.map((tick) => (
            <g key={`y${tick}`}>
              <line x1={PAD.left} x2={width - PAD.right} y1={y(tick)} y2={y(tick)} />
              {pointCount > 0 && (
                <text className="tick y-tick" x={PAD.left - 6} y={y(tick) + 4} textAnchor="end">
                  {tickLabel(tick, yStep)}
                </text>
              )}
            </g>
          ))}
          {xTicks.map((tick) => (
            <g key={`x${tick}`}>
              <line x1={x(tick)} x2={x(tick)} y1={PAD.top} y2={plotBottom} />
              <text className="tick x-tick" x={x(tick)} y={plotBottom + 14} textAnchor="middle">
                {showX(tick)}
              </text>
            </g>
          ))}
        </g>
        <line className="axis" x1={PAD.left} y1={plotBottom} x2={width - PAD.right} y2={plotBottom} />
        <line className="axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={plotBottom} />
        <text className="axis-title" x={PAD.left + plotWidth / 2} y={height - 6} textAnchor="middle">
          {xLabel}
        </text>
        <text
          className="axis-title"
          transform={`translate(12 ${(PAD.top + plotBottom) / 2}) rotate(-90)`}
          textAnchor="middle"
        >
          {yLabel ?? title}
        </text>
        {!pointCount && (
          <text className="empty" x={PAD.left + plotWidth / 2} y={(PAD.top + plotBottom) / 2} textAnchor="middle">
            {empty}
          </text>
        )}
        {lines.map((line) => {
          if (!line.points.length) return null;
          const path = line.points.map(
            ([px, py], index) => `${index ? "L" : "M"}${x(px).toFixed(1)},${y(py).toFixed(1)}`,
          );
          return (
            <g key={line.label}>
              <path d={path.join(" ")} fill="none" stroke={line.color} strokeWidth={2} />
              {line.points.length === 1 && (
                <circle cx={x(line.points[0][0])} cy={y(line.points[0][1])} r={3} fill={line.color} />
              )}
            </g>
          );
        })}
        {hoverX !== null && (
          <g className="hover">
            <line x1={x(hoverX)} x2={x(hoverX)} y1={PAD.top} y2={plotBottom} />
            {hovered.map(({ line, point }) => (
              <circle key={line.label} cx={x(point[0])} cy={y(point[1])} r={3.5} fill={line.color} />
            ))}
          </g>
        )}
      </svg>
      <p className="readout" aria-live="polite">
        {hoverX === null ? (
          "\u00a0"
        ) : (
          <>
            {xLabel} {formatX ? formatX(hoverX) : readout(hoverX)}
            {hovered.map(({ line, point }) => (
              <span key={line.label}>
                {" · "}
                <i style={{ background: line.color }} /> {line.label} {readout(point[1])}
              </span>
            ))}
          </>
        )}
      </p>
    </figure>
  );
}
