// The runs: name, game with a frame of it, algorithm, status, progress with ETA, scores, ⚡; the system strip.
import { api, type Game } from "../api";
import { FormError } from "../components/FormParts";
import { FastMarker, RunProgress, StatusBadge } from "../components/RunBits";
import { SystemStrip } from "../components/SystemStrip";
import { algoName, score } from "../format";
import { Link } from "../router";
import { usePolling } from "../usePolling";

export function Dashboard({ games, onNewRun }: { games: Game[]; onNewRun: () => void }) {
  const runs = usePolling(api.runs, 2000);
  const system = usePolling(api.system, 3000);
  const title = (id: string) => games.find((game) => game.id === id)?.title ?? id;
  return (
    <>
      <SystemStrip system={system.data} />
      <h1>Runs</h1>
      <FormError error={runs.error} />
      {runs.data && runs.data.length === 0 && (
        <div className="empty-state">
          <p>No runs yet. Pick a game and a budget, and watch an agent learn to play it.</p>
          <button type="button" className="primary" onClick={onNewRun}>
            Start your first run
          </button>
        </div>
      )}
      <ul className="runs" aria-label="Runs">
        {runs.data?.map((run) => (
          <li key={run.run_id} className="run-card" data-run-id={run.run_id} data-status={run.status}>
            <img
              className="thumb"
              src={`/api/games/${encodeURIComponent(run.game)}/thumbnail`}
              alt={`${title(run.game)} frame`}
              width={80}
              height={105}
              loading="lazy"
            />
            <div className="run-main">
              <div className="run-title">
                <Link href={`/runs/${run.run_id}`}>{run.name}</Link> <FastMarker run={run} />
                <StatusBadge status={run.status} />
              </div>
              <div className="run-meta">
                {title(run.game)} · {algoName(run.algo)} · {run.run_id}
              </div>
              <RunProgress run={run} />
              <div className="run-scores">
                <span>
                  Best score <strong>{score(run.score_best)}</strong>
                </span>
                <span>
                  Recent mean <strong>{score(run.score_mean)}</strong>
                </span>
              </div>
              {run.message && <div className="run-message">{run.message}</div>}
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}
