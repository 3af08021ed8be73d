// Small pieces every page shows about a run: its status badge, progress bar and Fast Mode marker.
import type { Run } from "../api";
import { count, duration, percent } from "../format";

export function StatusBadge({ status }: { status: Run["status"] }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function FastMarker({ run }: { run: Run }) {
  if (!run.fast_mode) return null;
  return (
    <span className="fast" title="Fast Mode: no live clips, journey rendered at the end" aria-label="Fast Mode">
      ⚡
    </span>
  );
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const clamped = Math.min(Math.max(value, 0), 1);
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(clamped * 100)}
    >
      <div className="progress-fill" style={{ width: `${clamped * 100}%` }} />
    </div>
  );
}

export function RunProgress({ run }: { run: Run }) {
  if (run.status === "rendering") {
    return (
      <div className="run-progress">
        <ProgressBar value={run.render_progress ?? 0} label={`Journey render of ${run.name}`} />
        <span>Rendering the journey… {percent(run.render_progress ?? 0)}</span>
      </div>
    );
  }
  return (
    <div className="run-progress">
      <ProgressBar value={run.progress} label={`Training progress of ${run.name}`} />
      <span>
        {count(run.timesteps)} / {count(run.total_timesteps)} steps · {percent(run.progress)}
        {run.leg > 1 && ` · leg ${run.leg} ${percent(run.leg_progress)}`}
        {run.eta_seconds !== null && ` · ETA ${duration(run.eta_seconds)}`}
      </span>
    </div>
  );
}
