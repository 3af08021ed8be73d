// The New run form as plain data: the Fast Mode rule, the TrainingConfig body it becomes and where the
// server's refusals go. The form checks nothing itself: each field is sent as typed and the server's
// config (retroml.config) reads and refuses it, field by field, as it does for the CLI and the desktop.
// No React here, so Vitest tests the rules directly.
import type { Algo, FieldProblem, Layout, Preset, TrainingConfig } from "./api";

export const FAST_MODE_TRADE_OFF =
  "Fast Mode trains at full speed: no live clips and no live view of the game; the learning-journey " +
  "video is rendered from the checkpoints when training ends.";
export const RECORDING_OFF_REASON =
  "Live video recording is off in Fast Mode: recording clips while training is the speed Fast Mode gives up.";
export const TIMELAPSE_OFF_REASON =
  "The training time-lapse is off in Fast Mode too: it films the training, which Fast Mode does not.";
/** Frames per second the training time-lapse captures when it is on. */
export const TIMELAPSE_FPS = 2;
export const THREADS_NOTE =
  "PyTorch CPU threads for the network updates; more threads speed up learning steps, but leave cores for the emulators.";

export interface RunForm {
  preset: string;
  name: string;
  game: string;
  algo: Algo;
  totalTimesteps: string;
  nEnvs: string;
  seed: string;
  nThreads: string;
  /** train.device: auto, cpu or cuda:N (the choices the server detected). */
  device: string;
  recording: boolean;
  clipSeconds: string;
  /** Capture the agent's view of training for a time-lapse (`retroml render --timelapse`). */
  timelapse: boolean;
  fastMode: boolean;
  journeyLength: string;
  layout: Layout;
  overrides: string;
  /** What "Live video recording" was before Fast Mode turned it off, restored when Fast Mode goes. */
  recordingBeforeFast: boolean;
  timelapseBeforeFast: boolean;
}

export type FormField = keyof Omit<RunForm, "recordingBeforeFast" | "timelapseBeforeFast">;
export type FormErrors = Partial<Record<FormField | "general", string>>;

export function emptyForm(cpuCount = 1): RunForm {
  return {
    preset: "",
    name: "",
    game: "pong",
    algo: "ppo",
    totalTimesteps: "1_000_000",
    nEnvs: "",
    seed: "0",
    nThreads: String(cpuCount),
    device: "auto",
    recording: true,
    clipSeconds: "10",
    timelapse: false,
    fastMode: false,
    journeyLength: "3m",
    layout: "single",
    overrides: "",
    recordingBeforeFast: true,
    timelapseBeforeFast: false,
  };
}

/** Fast Mode on: live recording and time-lapse unchecked (and disabled by the modal); off: the previous choices back. */
export function setFastMode(form: RunForm, on: boolean): RunForm {
  if (on === form.fastMode) return form;
  if (on)
    return {
      ...form,
      fastMode: true,
      recordingBeforeFast: form.recording,
      recording: false,
      timelapseBeforeFast: form.timelapse,
      timelapse: false,
    };
  return { ...form, fastMode: false, recording: form.recordingBeforeFast, timelapse: form.timelapseBeforeFast };
}

/** Whether "Live video recording" and its clip length can be changed. */
export function recordingLocked(form: RunForm): boolean {
  return form.fastMode;
}

export function clipLengthDisabled(form: RunForm): boolean {
  return form.fastMode || !form.recording;
}

export function applyPreset(form: RunForm, preset: Preset): RunForm {
  const config = preset.config;
  const next: RunForm = {
    ...form,
    preset: preset.id,
    game: config.game?.id ?? form.game,
    algo: config.train?.algo ?? form.algo,
    totalTimesteps: String(config.train?.total_timesteps ?? form.totalTimesteps).replace(/\B(?=(\d{3})+(?!\d))/g, "_"),
    nEnvs: config.train?.n_envs ? String(config.train.n_envs) : "",
    journeyLength: config.render?.length ?? "3m",
    layout: config.render?.layout ?? "single",
  };
  return setFastMode(next, Boolean(config.fast_mode));
}

/** The request body: every field as the user typed it, for the server to read (an empty Environments: the default). */
export function toBody(form: RunForm): TrainingConfig {
  const body: TrainingConfig = {
    game: form.game,
    algo: form.algo,
    total_timesteps: form.totalTimesteps,
    seed: form.seed,
    n_threads: form.nThreads,
    device: form.device,
    fast_mode: form.fastMode,
    recording: {
      enabled: form.fastMode ? false : form.recording,
      milestone_clip_seconds: form.fastMode ? 0 : form.clipSeconds,
      timelapse_fps: !form.fastMode && form.timelapse ? TIMELAPSE_FPS : 0,
    },
    render: { auto: form.fastMode, length: form.journeyLength.trim(), layout: form.layout },
    overrides: form.overrides.split(/\s+/).filter(Boolean),
  };
  if (form.preset) body.preset = form.preset;
  if (form.nEnvs.trim()) body.n_envs = form.nEnvs;
  if (form.name.trim()) body.name = form.name.trim();
  return body;
}

const SERVER_FIELDS: Record<string, FormField> = {
  preset: "preset",
  name: "name",
  game: "game",
  algo: "algo",
  total_timesteps: "totalTimesteps",
  n_envs: "nEnvs",
  seed: "seed",
  n_threads: "nThreads",
  device: "device",
  "recording.enabled": "recording",
  "recording.milestone_clip_seconds": "clipSeconds",
  "recording.timelapse_fps": "timelapse",
  "render.length": "journeyLength",
  "render.layout": "layout",
  fast_mode: "fastMode",
  overrides: "overrides",
};

/** The server's 422 problems placed at the form's fields (others go to the top of the form). */
export function serverErrors(problems: FieldProblem[], fallback: string): FormErrors {
  const errors: FormErrors = {};
  for (const problem of problems) {
    const field = SERVER_FIELDS[problem.field.replace(/^overrides\.\d+$/, "overrides")] ?? "general";
    errors[field] = errors[field] ? `${errors[field]} ${problem.message}` : problem.message;
  }
  if (!problems.length) errors.general = fallback;
  return errors;
}
