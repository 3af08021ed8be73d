// Every clip and journey under the data home: filters, a poster grid, a player that seeks, a
// download link; journeys being rendered show their progress and appear when done.
import { useState } from "react";
import { api, type Game, type Video } from "../api";
import { ProgressBar } from "../components/RunBits";
import { bytes, count, duration, percent } from "../format";
import { Link } from "../router";
import { usePolling } from "../usePolling";

// What a rendered video is, by its layout (the renderer records it in the video's meta).
const CUTS: Record<string, string> = {
  single: "Journey",
  grid: "Journey (grid)",
  analytics: "Journey (analytics)",
  compare: "Comparison",
  highlights: "Highlights",
  timelapse: "Training time-lapse",
};

function title(video: Video): string {
  const cut = CUTS[video.layout ?? "single"] ?? "Journey";
  const what = video.kind === "journey" ? `${cut} ${video.length ?? ""}`.trim() : `Clip at ${video.milestone_label}`;
  return `${video.run_name} — ${what}`;
}

export function Gallery({ games }: { games: Game[] }) {
  const videos = usePolling(() => api.videos(), 3000);
  const runs = usePolling(api.runs, 2000);
  const [game, setGame] = useState("");
  const [runId, setRunId] = useState("");
  const [kind, setKind] = useState("");
  const [playing, setPlaying] = useState<Video | null>(null);

  const all = videos.data ?? [];
  const shown = all.filter(
    (video) => (!game || video.game === game) && (!runId || video.run_id === runId) && (!kind || video.kind === kind),
  );
  const rendering = (runs.data ?? []).filter((run) => run.status === "rendering");
  const gameIds = [...new Set(all.map((video) => video.game).filter(Boolean))] as string[];
  const runIds = [...new Map(all.map((video) => [video.run_id, video.run_name])).entries()];
  const gameTitle = (id: string) => games.find((candidate) => candidate.id === id)?.title ?? id;

  return (
    <>
      <h1>Video gallery</h1>
      {rendering.map((run) => (
        <div className="rendering" key={run.run_id} role="status">
          <span>
            Rendering a video of <Link href={`/runs/${run.run_id}`}>{run.name}</Link>…{" "}
            {percent(run.render_progress ?? 0)}
          </span>
          <ProgressBar value={run.render_progress ?? 0} label={`Video render of ${run.name}`} />
        </div>
      ))}
      <div className="filters">
        <div className="field inline">
          <label htmlFor="filter-game">Game</label>
          <select id="filter-game" value={game} onChange={(event) => setGame(event.target.value)}>
            <option value="">All games</option>
            {gameIds.map((id) => (
              <option key={id} value={id}>
                {gameTitle(id)}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="filter-run">Run</label>
          <select id="filter-run" value={runId} onChange={(event) => setRunId(event.target.value)}>
            <option value="">All runs</option>
            {runIds.map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="filter-kind">Kind</label>
          <select id="filter-kind" value={kind} onChange={(event) => setKind(event.target.value)}>
            <option value="">Clips and journeys</option>
            <option value="journey">Journeys</option>
            <option value="clip">Clips</option>
          </select>
        </div>
      </div>
      {playing && (
        <section className="player" aria-label="Player">
          <h2>{title(playing)}</h2>
          <video
            key={playing.id}
            src={playing.file_url}
            poster={playing.poster_url ?? undefined}
            controls
            autoPlay
            muted
            playsInline
            aria-label={title(playing)}
          />
          <p>
            {duration(playing.duration_sec)} · {bytes(playing.size_bytes)} ·{" "}
            <a href={`${playing.file_url}?download=true`} download={playing.filename}>
              Download {playing.filename}
            </a>{" "}
            ·{" "}
            <button type="button" onClick={() => setPlaying(null)}>
              Close player
            </button>
          </p>
        </section>
      )}
      {videos.data && shown.length === 0 && (
        <p className="note">No videos yet: clips appear as runs reach milestones, journeys when they are rendered.</p>
      )}
      <ul className="gallery" aria-label="Videos">
        {shown.map((video) => (
          <li key={video.id} data-kind={video.kind}>
            <button type="button" className="poster" onClick={() => setPlaying(video)} aria-label={`Play ${title(video)}`}>
              {video.poster_url ? <img src={video.poster_url} alt="" loading="lazy" /> : <span className="no-poster" />}
              <span className={`kind kind-${video.kind}`}>{video.kind}</span>
            </button>
            <div className="caption">
              <strong>{title(video)}</strong>
              <span>
                {video.game ? gameTitle(video.game) : ""} · {duration(video.duration_sec)} · {bytes(video.size_bytes)}
                {video.timesteps !== null && ` · ${count(video.timesteps)} steps`}
              </span>
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}
