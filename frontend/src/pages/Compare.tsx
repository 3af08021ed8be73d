// Several runs' score curves overlaid (x = timesteps or training time), a table of their numbers (as
// each run reports them), and each run's metrics as CSV or JSON.
import { useState } from "react";
import { api, type Metric } from "../api";
import { Toggle } from "../components/FormParts";
import { LineChart } from "../components/LineChart";
import { TableHead } from "../components/TableHead";
import { algoName, count, duration, percent, score } from "../format";
import { Link } from "../router";
import { usePolling } from "../usePolling";

const COLORS = ["#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176", "#4db6ac", "#f06292"];

function emptyText(picked: number, anyMetrics: boolean): string {
  if (!picked) return "Pick runs to compare.";
  return anyMetrics ? "No episode has ended in the picked runs yet." : "The picked runs recorded no metrics.";
}

export function Compare() {
  const runs = usePolling(api.runs, 5000);
  const [chosen, setChosen] = useState<string[]>([]);
  const [axis, setAxis] = useState<"timesteps" | "wall_time">("timesteps");
  // The chosen runs' metrics, asked for together and on the same beat as the runs.
  const chosenMetrics = usePolling(
    async () => Object.fromEntries(await Promise.all(chosen.map(async (runId) => [runId, await api.metrics(runId)]))),
    5000,
    [chosen.join(" ")],
  );
  const metrics: Record<string, Metric[]> = chosenMetrics.data ?? {};

  const toggle = (runId: string) =>
    setChosen((current) => (current.includes(runId) ? current.filter((id) => id !== runId) : [...current, runId]));
  const picked = (runs.data ?? []).filter((run) => chosen.includes(run.run_id));
  // A metrics row's wall_time is the run's training time when it was written, over all legs.
  const series = picked.map((run, index) => ({
    label: run.name,
    color: COLORS[index % COLORS.length],
    points: (metrics[run.run_id] ?? [])
      .filter((row) => row.score_mean !== null)
      .map(
        (row) => [axis === "timesteps" ? row.timesteps : row.wall_time, row.score_mean as number] as [number, number],
      ),
  }));

  return (
    <>
      <h1>Compare runs</h1>
      <fieldset className="pick-runs">
        <legend>Runs to compare</legend>
        {runs.data?.length === 0 && <p className="note">No runs yet.</p>}
        {runs.data?.map((run) => (
          <Toggle
            key={run.run_id}
            id={`compare-${run.run_id}`}
            checked={chosen.includes(run.run_id)}
            onChange={() => toggle(run.run_id)}
          >
            {run.name} ({run.game}, {algoName(run.algo)}, {run.status})
          </Toggle>
        ))}
      </fieldset>
      <div className="field inline">
        <label htmlFor="compare-axis">X axis</label>
        <select id="compare-axis" value={axis} onChange={(event) => setAxis(event.target.value as typeof axis)}>
          <option value="timesteps">Timesteps</option>
          <option value="wall_time">Training time</option>
        </select>
      </div>
      <div className="compare-chart">
        <LineChart
          title="Mean episode score (last 100 episodes)"
          xLabel={axis === "timesteps" ? "timesteps" : "training time"}
          yLabel="mean score"
          width={1100}
          height={380}
          formatX={axis === "wall_time" ? duration : undefined}
          // On timesteps, the longest plan of the picked runs: a short run ends where it ended.
          xDomain={
            axis === "timesteps" && picked.length
              ? [0, Math.max(...picked.map((run) => run.total_timesteps))]
              : undefined
          }
          series={series}
          empty={emptyText(
            picked.length,
            Object.keys(metrics).some((id) => chosen.includes(id) && metrics[id].length > 0),
          )}
        />
      </div>
      {picked.length === 0 ? (
        <p className="note">Pick runs above to see their scores, speed and progress side by side.</p>
      ) : (
        <table className="compare-table">
          <caption>Scores and speed</caption>
          <TableHead
            columns={[
              "Run",
              "Game",
              "Status",
              "Best score",
              "Recent mean",
              "Steps/s",
              "Training time",
              "Progress",
              "Planned total",
              "Export",
            ]}
          />
          <tbody>
            {picked.map((run) => (
              <tr key={run.run_id}>
                <th scope="row">
                  <Link href={`/runs/${run.run_id}`}>{run.name}</Link>
                </th>
                <td>{run.game}</td>
                <td>{run.status}</td>
                <td>{score(run.score_best)}</td>
                <td>{score(run.score_mean)}</td>
                <td>{count(run.steps_per_sec)}</td>
                <td>{duration(run.training_seconds)}</td>
                <td>{percent(run.progress)}</td>
                <td>{count(run.total_timesteps)}</td>
                <td>
                  <a href={`/api/runs/${run.run_id}/metrics?format=csv`} download={`${run.run_id}-metrics.csv`}>
                    CSV
                  </a>{" "}
                  <a href={`/api/runs/${run.run_id}/metrics?format=json`} download={`${run.run_id}-metrics.json`}>
                    JSON
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
