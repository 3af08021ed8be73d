// Every clip and journey under the data home: filters, newest or oldest first, grouped by run or not,
// a poster grid (the kind badge under the picture, never over its HUD), a player that seeks, a
// download link; journeys being rendered show their progress and appear when done.
import { useState } from "react";
import { api, type Game, type PackFile, type Video, type VideoKind } from "../api";
import { Options, type Choice } from "../components/FormParts";
import { ProgressBar } from "../components/RunBits";
import { VideoPlayer } from "../components/VideoPlayer";
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

const KIND_FILTERS: { value: VideoKind; label: string }[] = [
  { value: "journey", label: "Journeys" },
  { value: "clip", label: "Clips" },
  { value: "comparison", label: "Comparisons" },
  { value: "highlights", label: "Highlights" },
  { value: "time-lapse", label: "Time-lapses" },
];

const ORDERS: { value: Order; label: string }[] = [
  { value: "newest", label: "Newest first" },
  { value: "oldest", label: "Oldest first" },
];

interface FilterProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  choices: Choice[];
}

/** One of the gallery's filters (or its sort): a labelled select. */
function Filter({ id, label, value, onChange, choices }: FilterProps) {
  return (
    <div className="field inline">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        <Options choices={choices} />
      </select>
    </div>
  );
}

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
        <Filter
          id="filter-game"
          label="Game"
          value={game}
          onChange={setGame}
          choices={[{ value: "", label: "All games" }, ...gameIds.map((id) => ({ value: id, label: gameTitle(id) }))]}
        />
        <Filter
          id="filter-run"
          label="Run"
          value={runId}
          onChange={setRunId}
          choices={[{ value: "", label: "All runs" }, ...runIds.map(([id, name]) => ({ value: id, label: name }))]}
        />
        <Filter
          id="filter-kind"
          label="Kind"
          value={kind}
          onChange={setKind}
          choices={[{ value: "", label: "All videos" }, ...KIND_FILTERS]}
        />
        <Filter
          id="gallery-order"
          label="Sort"
          value={order}
          onChange={(value) => setOrder(value as Order)}
          choices={ORDERS}
        />
        <label className="check group-toggle">
          <input type="checkbox" checked={byRun} onChange={(event) => setByRun(event.target.checked)} /> Group by run
        </label>
      </div>
      {playing && (
        <section className="player" aria-label="Player">
          <h2>{title(playing)}</h2>
          <VideoPlayer key={playing.id} video={playing} autoPlay muted playsInline aria-label={title(playing)} />
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
