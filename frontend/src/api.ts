// The /api client: typed resources and one error type that carries the server's sentences by field.

export type Algo = "ppo" | "a2c" | "dqn" | "qrdqn";
export type Layout = "single" | "grid" | "analytics";
// Every video a run can be rendered into: the journey layouts and the other cuts.
export type VideoLayout = Layout | "compare" | "highlights" | "timelapse";
// The run as the server's Run model (retroml.runs.model) describes it: every number a page shows is
// computed there once (progress, speed, ETA, training time, milestones, allowed actions).
export type RunStatus =
  | "queued"
  | "running"
  | "paused"
  | "rendering"
  | "completed"
  | "failed"
  | "stopped"
  | "interrupted";
export type RunAction =
  | "start"
  | "stop"
  | "pause"
  | "resume"
  | "continue"
  | "branch"
  | "render"
  | "cancel_render"
  | "delete";
/** finish: train what is left of the planned budget; more: extend the budget by `steps`. */
export type ContinueMode = "finish" | "more";

export interface Leg {
  leg: number;
  budget: number;
  start_timesteps: number;
  from_checkpoint: string | null;
  created_at: number | null;
}

export interface Milestone {
  /** Percent of the run's whole budget. */
  pct: number;
  /** How the percentage reads: "10 %", "2.5 %". */
  label: string;
  /** Absolute timesteps: where it was saved, or where it is planned. */
  timesteps: number;
  reached: boolean;
  checkpoint: string | null;
  episodes: number | null;
  score_mean: number | null;
}

export interface Run {
  run_id: string;
  name: string;
  game: string;
  algo: Algo;
  status: RunStatus;
  fast_mode: boolean;
  executor: string;
  host: string | null;
  pid: number | null;
  message: string | null;
  exit_code: number | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  heartbeat_at: number | null;
  render_progress: number | null;
  parent_run_id: string | null;
  parent_checkpoint: string | null;
  changes: Record<string, unknown> | null;
  legs: Leg[];
  leg: number;
  start_timesteps: number;
  leg_start_timesteps: number;
  total_timesteps: number;
  timesteps: number;
  episodes: number;
  /** Mean score of the last 100 training episodes. */
  score_mean: number | null;
  /** Best score of any training episode, all legs. */
  score_best: number | null;
  /** Fraction of the run's whole budget done, 0..1. */
  progress: number;
  /** Fraction of the current leg done, 0..1. */
  leg_progress: number;
  /** While training: recent pace; after: the average over all legs. */
  steps_per_sec: number | null;
  /** Only while the run trains. */
  eta_seconds: number | null;
  /** Wall-clock training time over all legs. */
  training_seconds: number;
  /** What Continue → "Finish the planned budget" would train. */
  remaining_timesteps: number;
  /** The budget the run was created with: the default of "Train N more". */
  run_budget: number;
  milestones: Milestone[];
  /** What may be done to the run now. */
  actions: RunAction[];
  /** Whether the run saved any checkpoint (continue, branch and render need one). */
  has_checkpoint: boolean;
  /** Only GET /api/runs/{run_id} lists them. */
  branches?: { run_id: string; name: string; status: RunStatus }[];
}

export interface Metric {
  id: number;
  run_id: string;
  leg: number;
  timesteps: number;
  episodes: number;
  score_mean: number | null;
  /** Best episode since the previous row. */
  score_max: number | null;
  /** Best episode of the whole run so far. */
  score_best: number | null;
  steps_per_sec: number | null;
  loss: number | null;
  entropy: number | null;
  wall_time: number;
  created_at: number;
}

/** What a video is (the server's VideoKind): a clip, or what its render made. */
export type VideoKind = "journey" | "clip" | "comparison" | "highlights" | "time-lapse";

/** The upload pack beside a rendered video: chapters (description lines, WebVTT), thumbnail, description. */
export type PackFile = "chapters" | "webvtt" | "thumbnail" | "description";

export interface Video {
  id: number;
  kind: VideoKind;
  run_id: string;
  run_name: string;
  game: string | null;
  algo: string | null;
  milestone_pct: number | null;
  /** A clip's milestone as its run shows it now ("10 %"); null for the other videos. */
  milestone_label: string | null;
  timesteps: number | null;
  /** The leg of training the video shows the end of; run_legs: how many legs its run has. */
  leg: number | null;
  run_legs: number;
  duration_sec: number | null;
  size_bytes: number | null;
  layout: string | null;
  length: string | null;
  filename: string;
  created_at: number;
  file_url: string;
  poster_url: string | null;
  pack_urls: Partial<Record<PackFile, string>>;
}

export interface Game {
  id: string;
  title: string;
  difficulty: string;
  description: string;
  featured: boolean;
}

export interface Preset {
  id: string;
  title: string;
  description: string;
  config: Record<string, any>;
}

export interface Defaults {
  algos: Algo[];
  n_envs: Record<Algo, number>;
  zoo: Record<Algo, Record<string, number>>;
  max_timesteps: number;
  layouts: Layout[];
  video_layouts: VideoLayout[];
  recording: { enabled: boolean; milestone_clip_seconds: number };
  render: { length: string; layout: Layout };
}

/** What a journey render will make, before it starts (the server's RenderEstimate). */
export interface RenderEstimate {
  segments: number;
  frames: number;
  seconds: number;
  expected_bytes: number;
  expected_render_seconds: number;
  workers: number;
  /** The time and size come from this machine's earlier renders of the same kind. */
  measured: boolean;
  /** Said when a short journey shows a subset of the milestones. */
  note: string | null;
}

export interface SystemStatus {
  cpu_percent: number;
  cpu_count: number;
  memory_total: number;
  memory_used: number;
  memory_percent: number;
  disk_total: number;
  disk_free: number;
  disk_percent: number;
  gpu: string | null;
  home: string;
  running_runs: string[];
}

export interface TrainingConfig {
  preset?: string;
  game: string;
  algo: Algo;
  total_timesteps: number;
  n_envs?: number;
  seed?: number;
  n_threads?: number;
  name?: string;
  fast_mode: boolean;
  recording: { enabled: boolean; milestone_clip_seconds: number; timelapse_fps: number };
  render: { auto: boolean; length: string; layout: Layout };
  overrides: string[];
}

export interface FieldProblem {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(message);
  }
}

// The server takes a request that changes something only as JSON, even an action without a body
// (another site's page cannot send that type without the server's consent).
export function requestHeaders(method: string): Record<string, string> {
  return method === "GET" ? {} : { "Content-Type": "application/json" };
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: requestHeaders(method),
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    let errors: FieldProblem[] = [];
    try {
      const payload = await response.json();
      detail = typeof payload.detail === "string" ? payload.detail : detail;
      errors = Array.isArray(payload.errors) ? payload.errors : [];
    } catch {
      // Not JSON (a proxy's error page): the status line is the best sentence there is.
    }
    throw new ApiError(response.status, detail, errors);
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get("content-type") ?? "";
  return (type.includes("json") ? await response.json() : await response.text()) as T;
}

export const api = {
  games: () => request<Game[]>("GET", "/api/games"),
  presets: () => request<Preset[]>("GET", "/api/presets"),
  defaults: () => request<Defaults>("GET", "/api/defaults"),
  system: () => request<SystemStatus>("GET", "/api/system"),
  runs: () => request<Run[]>("GET", "/api/runs"),
  run: (runId: string) => request<Run>("GET", `/api/runs/${encodeURIComponent(runId)}`),
  createRun: (body: TrainingConfig) => request<Run>("POST", "/api/runs", body),
  action: (runId: string, action: "stop" | "pause" | "resume" | "start") =>
    request<Run>("POST", `/api/runs/${encodeURIComponent(runId)}/${action}`),
  continueRun: (runId: string, body: { mode: ContinueMode; steps: number | null }) =>
    request<Run>("POST", `/api/runs/${encodeURIComponent(runId)}/continue`, body),
  branch: (runId: string, body: { from_milestone_pct: number; overrides: string[]; steps?: number; name?: string }) =>
    request<Run>("POST", `/api/runs/${encodeURIComponent(runId)}/branch`, body),
  render: (runId: string, body: { length?: string; layout?: VideoLayout; compare_with?: string[] }) =>
    request<Run>("POST", `/api/runs/${encodeURIComponent(runId)}/render`, body),
  cancelRender: (runId: string) => request<Run>("POST", `/api/runs/${encodeURIComponent(runId)}/render/cancel`),
  renderEstimate: (runId: string, layout: VideoLayout, length: string) =>
    request<RenderEstimate | null>(
      "GET",
      `/api/runs/${encodeURIComponent(runId)}/render/estimate?layout=${layout}` +
        (length ? `&length=${encodeURIComponent(length)}` : ""),
    ),
  deleteRun: (runId: string) => request<void>("DELETE", `/api/runs/${encodeURIComponent(runId)}`),
  metrics: (runId: string, since = 0) =>
    request<Metric[]>("GET", `/api/runs/${encodeURIComponent(runId)}/metrics?since=${since}`),
  config: (runId: string) => request<string>("GET", `/api/runs/${encodeURIComponent(runId)}/config`),
  videos: (runId?: string) =>
    request<Video[]>("GET", runId ? `/api/videos?run_id=${encodeURIComponent(runId)}` : "/api/videos"),
};
