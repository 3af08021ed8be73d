// How numbers read on screen: timesteps with separators, durations as 1h 02m, sizes in MB, chart ticks
// as 1.5M. Every page and component formats through these; what the server already words (a training
// estimate's `text`, a run's `message`) is shown as it comes.

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : Math.round(value).toLocaleString("en-US");
}

export function score(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : value.toFixed(1);
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const total = Math.max(Math.round(seconds), 0);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (hours) return `${hours}h ${String(minutes).padStart(2, "0")}m`;
  if (minutes) return `${minutes}m ${String(secs).padStart(2, "0")}s`;
  return `${secs}s`;
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function percent(fraction: number | null | undefined): string {
  return fraction === null || fraction === undefined ? "–" : percentPoints(fraction * 100);
}

/** A share the server gives out of 100 (CPU, memory): "57 %". */
export function percentPoints(points: number): string {
  return `${Math.round(points)} %`;
}

/** An algorithm as the pages name it: PPO, QRDQN. */
export function algoName(algo: string): string {
  return algo.toUpperCase();
}

/** A moment (Unix seconds) as a machine reads it, for `<time dateTime>`. */
export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** A moment (Unix seconds) as the page shows it: "30 Nov 2026, 18:20" in the browser's time zone. */
export function dateTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "–";
  return new Date(seconds * 1000).toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** A chart tick with the decimals its step needs (0.25 apart: two; 1000 apart: 1k). */
export function tickLabel(value: number, step: number): string {
  if (Math.abs(value) >= 1e3 && step >= 100) return compact(value);
  // The fewest decimals that write the step exactly (0.25 needs two, 0.5 one, 5 none).
  let decimals = 0;
  while (decimals < 6 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6) decimals += 1;
  return value.toFixed(decimals);
}

/** A large number in few characters: 1.5M, 12k. */
function compact(value: number): string {
  const size = Math.abs(value);
  const trim = (text: string) => text.replace(/\.0+$/, "").replace(/(\.\d*?)0+$/, "$1");
  if (size >= 1e6) return `${trim((value / 1e6).toFixed(2))}M`;
  if (size >= 1e3) return `${trim((value / 1e3).toFixed(1))}k`;
  if (size >= 10 || size === 0) return value.toFixed(0);
  return value.toPrecision(3);
}

/** A value as a chart's hover readout shows it: a few significant digits, thousands grouped. */
export function readout(value: number): string {
  if (Math.abs(value) >= 1000) return count(value);
  return Number(value.toPrecision(4)).toString();
}
