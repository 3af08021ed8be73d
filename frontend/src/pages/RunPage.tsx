// One run, live: charts and log tail from the run's Server-Sent Events (the browser resumes the
// stream with Last-Event-ID after a drop), milestones with clips, controls, config.yaml, lineage.
import { Fragment, useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { api, type Defaults, type Metric, type Run, type RunStatus, type Video } from "../api";
import { LineChart } from "../components/LineChart";
import { MilestoneTimeline } from "../components/MilestoneTimeline";
import { RunControls } from "../components/RunControls";
import { FastMarker, RunProgress, StatusBadge } from "../components/RunBits";
import { TableHead } from "../components/TableHead";
import { VideoPlayer } from "../components/VideoPlayer";
import { algoName, count, duration, percent, score } from "../format";
import { Link } from "../router";

const LOG_LINES = 400;
// The log follows its newest line unless the reader scrolled more than this far up from the end.
const FOLLOW_SLACK_PX = 24;
const ACTIVE: RunStatus[] = ["queued", "running", "paused"];

// The charts under the score chart: one metric each.
const METRIC_CHARTS: {
  title: string;
  yLabel: string;
  label: string;
  color: string;
  pick: (m: Metric) => number | null;
}[] = [
  { title: "Loss", yLabel: "loss", label: "loss", color: "#e57373", pick: (m) => m.loss },
  { title: "Entropy", yLabel: "entropy (nats)", label: "entropy", color: "#ba68c8", pick: (m) => m.entropy },
  { title: "Steps per second", yLabel: "steps/s", label: "steps/s", color: "#81c784", pick: (m) => m.steps_per_sec },
];

// The upload pack's files a journey's caption links to, after its download link.
const CAPTION_PACK_LINKS = [
  ["thumbnail", "Thumbnail"],
  ["description", "Description"],
] as const;

/** What a chart with no point says, honestly for the run's state. */
function chartEmpty(run: Run, anyMetrics: boolean, what: "metrics" | "score"): string {
  const active = ACTIVE.includes(run.status);
  if (!anyMetrics) {
    if (active) return "Waiting for the first metrics…";
    return run.status === "completed"
      ? "No metrics were recorded."
      : `No metrics were recorded before this run ${run.status}.`;
  }
  if (what === "score") return active ? "No episode has ended yet." : "No episode ended during training.";
  return "This run recorded no values for it.";
}

/** Keeps a scrolled box at its end as lines arrive, unless the reader has scrolled up. */
function useFollowTail<T extends HTMLElement>(content: unknown) {
  const box = useRef<T>(null);
  const following = useRef(true);
  const onScroll = () => {
    const element = box.current;
    if (element) following.current = element.scrollHeight - element.scrollTop - element.clientHeight <= FOLLOW_SLACK_PX;
  };
  useLayoutEffect(() => {
    const element = box.current;
    if (element && following.current) element.scrollTop = element.scrollHeight;
  }, [content]);
  return { box, onScroll };
}

/** The server's rows, then the streamed rows that arrived after them. */
function withNewer(rows: Metric[], streamed: Metric[]): Metric[] {
  const last = rows.reduce((highest, row) => Math.max(highest, row.id), 0);
  return [...rows, ...streamed.filter((row) => row.id > last)];
}

export function RunPage({ runId, defaults }: { runId: string; defaults?: Defaults }) {
  const [run, setRun] = useState<Run | null>(null);
  const [metrics, setMetrics] = useState<Metric[]>([]);
  const [logs, setLogs] = useState<string[]>([]);
  const [videos, setVideos] = useState<Video[]>([]);
  const [config, setConfig] = useState("");
  const [connection, setConnection] = useState<"connecting" | "live" | "reconnecting" | "gone">("connecting");
  const [notFound, setNotFound] = useState<string | null>(null);
  const log = useFollowTail<HTMLPreElement>(logs);

  // Only GET /api/runs/{run_id} lists the branches; the stream and the actions answer the run without them.
  const showRun = useCallback((fresh: Run) => {
    setRun((current) => ({ ...fresh, branches: fresh.branches ?? current?.branches }));
  }, []);

  useEffect(() => {
    // An answer about the run this page showed before (the user went to another) is dropped.
    let live = true;
    const ifLive =
      <T,>(show: (value: T) => void) =>
      (value: T) => {
        if (live) show(value);
      };
    const loadVideos = () => api.videos(runId).then(ifLive(setVideos), () => undefined);
    setRun(null);
    setMetrics([]);
    setLogs([]);
    setNotFound(null);
    api.run(runId).then(
      ifLive(setRun),
      ifLive((error: Error) => setNotFound(error.message)),
    );
    api.config(runId).then(ifLive(setConfig), () => undefined);
    loadVideos();

    const source = new EventSource(`/api/runs/${encodeURIComponent(runId)}/events`);
    source.onopen = () => setConnection("live");
    source.onerror = () => setConnection(source.readyState === EventSource.CLOSED ? "gone" : "reconnecting");
    source.addEventListener("run", (event) => {
      showRun(JSON.parse((event as MessageEvent).data) as Run);
    });
    source.addEventListener("metrics", (event) => {
      const row = JSON.parse((event as MessageEvent).data);
      const metric = { ...row, id: row.metric_id } as Metric;
      setMetrics((current) => (current.some((known) => known.id === metric.id) ? current : [...current, metric]));
    });
    source.addEventListener("log", (event) => {
      const { lines } = JSON.parse((event as MessageEvent).data) as { lines: string[] };
      setLogs((current) => [...current, ...lines].slice(-LOG_LINES));
    });
    source.addEventListener("video", loadVideos);
    source.addEventListener("status", () => {
      api.run(runId).then(ifLive(showRun), () => undefined);
      // A continued run hides the rows past the checkpoint it retrains from: the server's list is the truth.
      const showRows = ifLive((rows: Metric[]) => setMetrics((current) => withNewer(rows, current)));
      api.metrics(runId).then(showRows, () => undefined);
    });
    source.addEventListener("deleted", () => {
      setConnection("gone");
      setNotFound(`Run ${runId} was deleted.`);
      source.close();
    });
    return () => {
      live = false;
      source.close();
    };
  }, [runId, showRun]);

  if (notFound) {
    return (
      <p className="form-error" role="alert">
        {notFound} <Link href="/">Back to the runs</Link>
      </p>
    );
  }
  if (!run) return <p>Loading {runId}…</p>;

  const series = (pick: (metric: Metric) => number | null) =>
    metrics
      .map((metric) => [metric.timesteps, pick(metric)] as [number, number | null])
      .filter((point): point is [number, number] => point[1] !== null);
  const anyMetrics = metrics.length > 0;
  // Every chart spans the run's plan, so the same timestep sits at the same place in each.
  const planned: [number, number] = [run.start_timesteps, run.total_timesteps];
  const clips = videos.filter((video) => video.kind === "clip");
  // Everything rendered from the run: journeys, comparisons, highlights, time-lapses.
  const journeys = videos.filter((video) => video.kind !== "clip");

  return (
    <article className="run-page" data-status={run.status}>
      <header className="run-header">
        <h1>
          {run.name} <FastMarker run={run} /> <StatusBadge status={run.status} />
        </h1>
        <p className="run-meta">
          {run.game} · {algoName(run.algo)} · {run.run_id} · leg {run.leg} ·{" "}
          <span className={`connection ${connection}`} aria-live="polite">
            {connection === "live" ? "live" : connection}
          </span>
        </p>
        <RunProgress run={run} />
        <dl className="facts">
          <dt>Best score</dt>
          <dd>{score(run.score_best)}</dd>
          <dt>Recent mean</dt>
          <dd>{score(run.score_mean)}</dd>
          <dt>Episodes</dt>
          <dd>{count(run.episodes)}</dd>
          <dt>Steps/s</dt>
          <dd title={run.status === "running" ? "recent pace" : "average over all legs"}>{count(run.steps_per_sec)}</dd>
          <dt>Time</dt>
          <dd title="training time over all legs">{duration(run.training_seconds)}</dd>
          <dt>Device</dt>
          <dd title="the device the latest leg trained on (recorded when its process started)">{run.device ?? "—"}</dd>
        </dl>
        {run.message && <p className="run-message">{run.message}</p>}
      </header>

      <RunControls run={run} defaults={defaults} onChanged={showRun} />

      <section className="charts" aria-label="Training charts">
        <LineChart
          title="Episode score"
          xLabel="timesteps"
          yLabel="score"
          xDomain={planned}
          empty={chartEmpty(run, anyMetrics, "score")}
          series={[
            { label: "mean (last 100 episodes)", color: "#4fc3f7", points: series((metric) => metric.score_mean) },
            { label: "best score (whole run)", color: "#ffb74d", points: series((metric) => metric.score_best) },
            { label: "best episode in interval", color: "#7e8696", points: series((metric) => metric.score_max) },
          ]}
        />
        {METRIC_CHARTS.map((chart) => (
          <LineChart
            key={chart.title}
            title={chart.title}
            xLabel="timesteps"
            yLabel={chart.yLabel}
            xDomain={planned}
            empty={chartEmpty(run, anyMetrics, "metrics")}
            series={[{ label: chart.label, color: chart.color, points: series(chart.pick) }]}
          />
        ))}
      </section>

      <div className="two-columns">
        <MilestoneTimeline run={run} clips={clips} />
        <section aria-labelledby="journeys-title">
          <h2 id="journeys-title">Journey videos</h2>
          {journeys.length === 0 && <NoJourney run={run} />}
          {journeys.map((video) => (
            <figure key={video.id} className="journey">
              <VideoPlayer video={video} preload="metadata" />
              <figcaption>
                {video.kind} · {video.length} · {video.layout} ·{" "}
                <a href={`${video.file_url}?download=true`}>Download</a>
                {CAPTION_PACK_LINKS.filter(([name]) => video.pack_urls[name]).map(([name, text]) => (
                  <Fragment key={name}>
                    {" "}
                    · <a href={`${video.pack_urls[name]}?download=true`}>{text}</a>
                  </Fragment>
                ))}
              </figcaption>
            </figure>
          ))}
        </section>
      </div>

      <section aria-labelledby="log-title">
        <h2 id="log-title">Log</h2>
        <pre
          className="log"
          tabIndex={0}
          aria-label="Training log (last lines)"
          aria-live="off"
          ref={log.box}
          onScroll={log.onScroll}
        >
          {logs.join("\n") || "no output yet"}
        </pre>
      </section>

      <div className="two-columns">
        <section aria-labelledby="lineage-title">
          <h2 id="lineage-title">Lineage</h2>
          {run.parent_run_id ? (
            <p>
              Branched from <Link href={`/runs/${run.parent_run_id}`}>{run.parent_run_id}</Link> at{" "}
              <code>{run.parent_checkpoint}</code>
              {run.changes && Object.keys(run.changes).length > 0 && (
                <>
                  {" "}
                  with{" "}
                  {Object.entries(run.changes)
                    .map(([key, value]) => `${key}=${String(value)}`)
                    .join(", ")}
                </>
              )}
            </p>
          ) : (
            <p>Started from scratch.</p>
          )}
          <table>
            <caption>Legs</caption>
            <TableHead columns={["Leg", "Budget", "From timestep", "Device"]} />
            <tbody>
              {run.legs.map((leg) => (
                <tr key={leg.leg}>
                  <td>{leg.leg}</td>
                  <td>{count(leg.budget)}</td>
                  <td>{count(leg.start_timesteps)}</td>
                  <td>{leg.device ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {run.branches && run.branches.length > 0 && (
            <>
              <h3>Branches</h3>
              <ul>
                {run.branches.map((branch) => (
                  <li key={branch.run_id}>
                    <Link href={`/runs/${branch.run_id}`}>{branch.name}</Link> ({branch.status})
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
        <section aria-labelledby="config-title">
          <h2 id="config-title">config.yaml</h2>
          <pre className="config" tabIndex={0} aria-label="The run's config.yaml">
            {config}
          </pre>
        </section>
      </div>
    </article>
  );
}

/** Why a run has no journey video yet, and how to make one. */
function NoJourney({ run }: { run: Run }) {
  if (run.status === "rendering") {
    return <p className="note">The journey is being rendered: {percent(run.render_progress ?? 0)} done.</p>;
  }
  if (ACTIVE.includes(run.status)) {
    return (
      <p className="note">
        No journey yet:{" "}
        {run.fast_mode ? "Fast Mode renders it when training completes." : "render one when training ends."}
      </p>
    );
  }
  if (!run.actions.includes("render")) {
    return <p className="note">No journey: this run saved no checkpoint to film.</p>;
  }
  const why =
    run.fast_mode && run.status !== "completed"
      ? `Fast Mode renders the journey when training completes, and this run ${run.status} before that.`
      : "This run has no journey video.";
  return (
    <p className="note journey-hint">
      No journey yet. {why} Render it now with <strong>Render video</strong> above, or from a shell:{" "}
      <code>retroml render {run.run_id}</code>
    </p>
  );
}
