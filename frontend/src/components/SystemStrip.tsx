// CPU, memory and disk of the machine the server runs on, and how many runs train now.
import type { SystemStatus } from "../api";
import { bytes, percentPoints } from "../format";

export function SystemStrip({ system }: { system: SystemStatus | null }) {
  if (!system) return <section className="system" aria-label="System" />;
  return (
    <section className="system" aria-label="System">
      <span>
        CPU <strong>{percentPoints(system.cpu_percent)}</strong> of {system.cpu_count} cores
      </span>
      <span>
        Memory <strong>{percentPoints(system.memory_percent)}</strong> of {bytes(system.memory_total)}
      </span>
      <span>
        Disk <strong>{bytes(system.disk_free)}</strong> free
      </span>
      {system.gpu && <span>GPU {system.gpu}</span>}
      <span>
        Training now <strong>{system.running_runs.length}</strong>
      </span>
    </section>
  );
}
