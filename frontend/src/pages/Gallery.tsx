// Every clip and journey under the data home: filters, newest or oldest first, grouped by run or not,
// a poster grid (the kind badge under the picture, never over its HUD), a player that seeks, a
// download link; journeys being rendered show their progress and appear when done.
import { useState } from "react";
import { api, type Game, type PackFile, type Video, type VideoKind } from "../api";
import { ProgressBar } from "../components/RunBits";
import { bytes, count, dateTime, duration, isoTime, percent } from "../format";
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

/** What the video is, told apart from its run's other videos: the cut and length, the milestone, the leg. */
function what(video: Video): string {
  const cut = CUTS[video.layout ?? "single"] ?? "Journey";
  const name = video.kind !== "clip" ? `${cut} ${video.length ?? ""}`.trim() : `Clip at ${video.milestone_label}`;
  // A continued run has a journey per leg: the leg and where it ends tell them apart.
  const leg = video.run_legs > 1 && video.leg ? ` · leg ${video.leg}` : "";
  const upTo = video.kind !== "clip" && video.timesteps !== null ? ` · to ${count(video.timesteps)} steps` : "";
  return `${name}${leg}${upTo}`;
}

function title(video: Video): string {
  return `${video.run_name} — ${what(video)}`;
}

type Order = "newest" | "oldest";

const KIND_FILTERS: [VideoKind, string][] = [
  ["journey", "Journeys"],
  ["clip", "Clips"],
  ["comparison", "Comparisons"],
  ["highlights", "Highlights"],
  ["time-lapse", "Time-lapses"],
];

// The upload pack's files as the player's links name them.
const PACK_LINKS: [PackFile, string][] = [
  ["thumbnail", "Thumbnail"],
  ["chapters", "Chapters"],
  ["description", "Description"],
];

/** The videos in the chosen order, in one group per run (the run with the newest, or oldest, video first). */
function arrange(videos: Video[], order: Order, byRun: boolean): { runId: string; runName: string; videos: Video[] }[] {
  const sign = order === "newest" ? -1 : 1;
  const sorted = [...videos].sort((a, b) => sign * (a.created_at - b.created_at || a.id - b.id));
  if (!byRun) return [{ runId: "", runName: "", videos: sorted }];
  const groups = new Map<string, { runId: string; runName: string; videos: Video[] }>();
  for (const video of sorted) {
    const group = groups.get(video.run_id) ?? { runId: video.run_id, runName: video.run_name, videos: [] };
    group.videos.push(video);
    groups.set(video.run_id, group);
  }
  return [...groups.values()];
}

export function Gallery({ games }: { games: Game[] }) {
  const videos = usePolling(() => api.videos(), 3000);
  const runs = usePolling(api.runs, 2000);
  const [game, setGame] = useState("");
  const [runId, setRunId] = useState("");
  const [kind, setKind] = useState("");
  const [playing, setPlaying] = useState<Video | null>(null);
  const [order, setOrder] = useState<Order>("newest");
  const [byRun, setByRun] = useState(true);

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
            <option value="">All videos</option>
            {KIND_FILTERS.map(([value, name]) => (
              <option key={value} value={value}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="gallery-order">Sort</label>
          <select id="gallery-order" value={order} onChange={(event) => setOrder(event.target.value as Order)}>
            <option value="newest">Newest first</option>
            <option value="oldest">Oldest first</option>
          </select>
        </div>
        <label className="check group-toggle">
          <input type="checkbox" checked={byRun} onChange={(event) => setByRun(event.target.checked)} /> Group by run
        </label>
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
          >
            {playing.pack_urls.webvtt && (
              <track kind="chapters" src={playing.pack_urls.webvtt} srcLang="en" label="Chapters" default />
            )}
          </video>
          <p>
            {duration(playing.duration_sec)} · {bytes(playing.size_bytes)} ·{" "}
            <a href={`${playing.file_url}?download=true`} download={playing.filename}>
              Download {playing.filename}
            </a>{" "}
            ·{" "}
            {PACK_LINKS.filter(([name]) => playing.pack_urls[name]).map(([name, text]) => (
              <span key={name}>
                <a href={`${playing.pack_urls[name]}?download=true`} download className={`pack-${name}`}>
                  {text}
                </a>{" "}
                ·{" "}
              </span>
            ))}
            <button type="button" onClick={() => setPlaying(null)}>
              Close player
            </button>
          </p>
        </section>
      )}
      {videos.data && shown.length === 0 && (
        <p className="note">No videos yet: clips appear as runs reach milestones, journeys when they are rendered.</p>
      )}
      {arrange(shown, order, byRun).map((group) => (
        <section key={group.runId || "all"} className="gallery-group" aria-label={group.runName || "Videos"}>
          {group.runId && (
            <h2>
              <Link href={`/runs/${group.runId}`}>{group.runName}</Link>
            </h2>
          )}
          <ul className="gallery" aria-label={group.runName ? `Videos of ${group.runName}` : "Videos"}>
            {group.videos.map((video) => (
              <li key={video.id} data-kind={video.kind} data-video-id={video.id}>
                <button
                  type="button"
                  className="poster"
                  onClick={() => setPlaying(video)}
                  aria-label={`Play ${title(video)}`}
                >
                  {video.poster_url ? (
                    <img src={video.poster_url} alt="" loading="lazy" />
                  ) : (
                    <span className="no-poster" />
                  )}
                </button>
                <div className="caption">
                  <span className="caption-top">
                    <span className={`kind kind-${video.kind}`}>{video.kind}</span>
                    <time dateTime={isoTime(video.created_at)}>{dateTime(video.created_at)}</time>
                  </span>
                  <strong>{byRun ? what(video) : title(video)}</strong>
                  <span>
                    {video.game ? gameTitle(video.game) : ""} · {duration(video.duration_sec)} ·{" "}
                    {bytes(video.size_bytes)}
                    {video.kind === "clip" && video.timesteps !== null && ` · ${count(video.timesteps)} steps`}
                  </span>
                </div>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </>
  );
}
