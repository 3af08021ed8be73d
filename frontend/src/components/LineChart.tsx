// A line chart in plain SVG: a few series over a shared x axis, with min/max labels. Enough for
// training curves without a charting library.

export interface Series {
  label: string;
  color: string;
  points: [number, number][];
}

interface Props {
  title: string;
  series: Series[];
  xLabel: string;
  formatX?: (value: number) => string;
  /** What the chart says while it has no point. */
  empty?: string;
}

const WIDTH = 480;
const HEIGHT = 200;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

/** A y-axis end with as many decimals as the range needs to tell the two ends apart (1.791 and 1.788, not 1.79 twice). */
function yTick(value: number, span: number): string {
  if (Math.abs(value) >= 1e3) return compact(value);
  const decimals = Math.min(Math.max(Math.ceil(-Math.log10(span)), 0), 5);
  return value.toFixed(decimals);
}

function compact(value: number): string {
  const size = Math.abs(value);
  if (size >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (size >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  if (size >= 10 || size === 0) return value.toFixed(0);
  return value.toPrecision(3);
}

export function LineChart({ title, series, xLabel, formatX = compact, empty = "waiting for data…" }: Props) {
  const all = series.flatMap((line) => line.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const pointCount = all.length;
  const [minX, maxX] = pointCount ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))] : [0, 1];
  let [minY, maxY] = pointCount ? [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))] : [0, 1];
  // One value (or a flat line) gets a band around it of 5 % of its size, so its ends still read near it.
  if (minY === maxY) [minY, maxY] = [minY - (Math.abs(minY) * 0.05 || 1), maxY + (Math.abs(maxY) * 0.05 || 1)];
  const spanX = maxX - minX || 1;
  const x = (value: number) => PAD.left + ((value - minX) / spanX) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) => HEIGHT - PAD.bottom - ((value - minY) / (maxY - minY)) * (HEIGHT - PAD.top - PAD.bottom);
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
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${title}: ${pointCount} points`}>
        <line className="axis" x1={PAD.left} y1={HEIGHT - PAD.bottom} x2={WIDTH - PAD.right} y2={HEIGHT - PAD.bottom} />
        <line className="axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={HEIGHT - PAD.bottom} />
        <text className="tick" x={PAD.left - 6} y={PAD.top + 8} textAnchor="end">
          {yTick(maxY, maxY - minY)}
        </text>
        <text className="tick" x={PAD.left - 6} y={HEIGHT - PAD.bottom} textAnchor="end">
          {yTick(minY, maxY - minY)}
        </text>
        <text className="tick" x={PAD.left} y={HEIGHT - 8}>
          {formatX(minX)}
        </text>
        <text className="tick" x={WIDTH - PAD.right} y={HEIGHT - 8} textAnchor="end">
          {formatX(maxX)}
        </text>
        <text className="tick" x={(WIDTH + PAD.left) / 2} y={HEIGHT - 8} textAnchor="middle">
          {xLabel}
        </text>
        {!pointCount && (
          <text className="empty" x={WIDTH / 2} y={HEIGHT / 2} textAnchor="middle">
            {empty}
          </text>
        )}
        {series.map((line) => {
          const points = line.points.filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py));
          if (!points.length) return null;
          const path = points.map(([px, py], index) => `${index ? "L" : "M"}${x(px).toFixed(1)},${y(py).toFixed(1)}`);
          return (
            <g key={line.label}>
              <path d={path.join(" ")} fill="none" stroke={line.color} strokeWidth={2} />
              {points.length === 1 && <circle cx={x(points[0][0])} cy={y(points[0][1])} r={3} fill={line.color} />}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
