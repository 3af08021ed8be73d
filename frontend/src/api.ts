// The /api client: typed resources and one error type that carries the server's sentences by field.
//
// The types are the server's: api-schema.ts is generated from its OpenAPI schema by
// scripts/gen_api_types.sh (the Pydantic response models of retroml.web.api, which are the Run model of
// retroml.runs.model and the config schema of retroml.config). Nothing here restates a field: a change
// on the server reaches this file by regenerating, and CI fails while the two differ.
import type { components, paths } from "./api-schema";

type Schemas = components["schemas"];

export type Defaults = Schemas["Defaults"];
export type Algo = Defaults["algos"][number];
export type Layout = Defaults["layouts"][number];
/** Every video a run can be rendered into: the journey layouts and the other cuts. */
export type VideoLayout = Defaults["video_layouts"][number];
export type RunStatus = Schemas["RunStatus"];
export type RunAction = Schemas["Action"];
/** finish: train what is left of the planned budget; more: extend the budget by `steps`. */
export type ContinueMode = NonNullable<Schemas["ContinueBody"]["mode"]>;
export type Leg = Schemas["Leg"];
export type Milestone = Schemas["Milestone"];
/** The run as the server's Run model describes it; only GET /api/runs/{run_id} lists its branches. */
export type Run = Schemas["Run"] & Partial<Pick<Schemas["RunWithBranches"], "branches">>;
export type Metric = Schemas["Metric"];
export type VideoKind = Schemas["VideoKind"];
/** The upload pack beside a rendered video: chapters (description lines, WebVTT), thumbnail, description. */
export type PackFile = paths["/api/videos/{video_id}/pack/{name}"]["get"]["parameters"]["path"]["name"];
export type Video = Schemas["Video"];
export type Game = Schemas["Game"];
/** Some fields of a RunConfig at any depth, as a preset's own settings give them. */
export type PartialConfig<T> = { [K in keyof T]?: T[K] extends object ? PartialConfig<T[K]> : T[K] };
/** A preset: its own settings (a part of a RunConfig) and the full config they give. */
export type Preset = Omit<Schemas["Preset"], "config"> & { config: PartialConfig<Schemas["RunConfig"]> };
export type RenderEstimate = Schemas["RenderEstimate"];
export type SystemStatus = Schemas["SystemStatus"];
export type TrainingConfig = Schemas["TrainingConfig"];
export type ContinueBody = Schemas["ContinueBody"];
export type BranchBody = Schemas["BranchBody"];
export type RenderRequest = Schemas["RenderRequest"];
export type FieldProblem = Schemas["FieldProblem"];
/** The Device field's choices on this machine, and the training time of the run a form would start. */
export type Devices = Schemas["Devices"];
export type TrainingEstimate = Schemas["TrainingEstimate"];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(message);
  }
}

/** The sentence a failed request shows: the server's (an ApiError's detail), else the browser's. */
export function failureSentence(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}

/**
 * The server's refusal of a form with one field (a length, the timesteps to add), shown beside that field:
 * the refused values' sentences without their field names, else `failureSentence`.
 */
export function refusalSentence(failure: unknown): string {
  const problems = failure instanceof ApiError ? failure.errors.map((problem) => problem.message) : [];
  return problems.length ? problems.join(" ") : failureSentence(failure);
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
  continueRun: (runId: string, body: ContinueBody) =>
    request<Run>("POST", `/api/runs/${encodeURIComponent(runId)}/continue`, body),
  branch: (runId: string, body: BranchBody) =>
    request<Run>("POST", `/api/runs/${encodeURIComponent(runId)}/branch`, body),
  render: (runId: string, body: RenderRequest) =>
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
  devices: () => request<Devices>("GET", "/api/estimates/devices"),
  trainingEstimate: (body: TrainingConfig) => request<TrainingEstimate>("POST", "/api/estimates/training", body),
  probeTraining: (body: TrainingConfig) => request<TrainingEstimate>("POST", "/api/estimates/probe", body),
  videos: (runId?: string) =>
    request<Video[]>("GET", runId ? `/api/videos?run_id=${encodeURIComponent(runId)}` : "/api/videos"),
};
