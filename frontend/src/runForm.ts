// The New run form as plain data: the Fast Mode rule, validation that mirrors the server's
// (retroml.config.RunConfig), and the TrainingConfig body it becomes. No React here, so Vitest
// tests the rules directly.
import type { Algo, Defaults, FieldProblem, Layout, Preset, TrainingConfig } from "./api";
import { count } from "./format";

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

export const MAX_TIMESTEPS = 1_000_000_000;
const MAX_SECONDS = 24 * 3600;

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

const SUFFIXES: Record<string, number> = { "": 1, k: 1_000, m: 1_000_000, b: 1_000_000_000 };

/** 100000, 100_000, 100,000, 100k or 2.5M as a whole number; null if it is none. */
export function parseTimesteps(text: string): number | null {
  const cleaned = text.trim().toLowerCase().replace(/[_, ]/g, "");
  const match = /^(\d+(?:\.\d+)?)([kmb]?)$/.exec(cleaned);
  if (!match) return null;
  return Math.round(parseFloat(match[1]) * SUFFIXES[match[2]]);
}

/** Why a budget field is not a budget RunConfig accepts (1 to MAX_TIMESTEPS timesteps); null if it is one. */
export function budgetProblem(text: string): string | null {
  const steps = parseTimesteps(text);
  // "-5000" is a number, only a negative one: it gets the range sentence, not "write a number".
  const negative = steps === null && /^\s*-/.test(text) && parseTimesteps(text.replace("-", "")) !== null;
  if (negative) return `The budget must be a positive number of timesteps (1 to ${count(MAX_TIMESTEPS)}).`;
  if (steps === null) return "Write the budget as a number, e.g. 100000, 100k or 2.5M.";
  if (steps <= 0 || steps > MAX_TIMESTEPS) return `The budget must be between 1 and ${count(MAX_TIMESTEPS)} timesteps.`;
  return null;
}

/** Seconds in 45s, 3m, 1h30m or a bare number (retroml.config.parse_duration); null if it is none. */
export function parseDuration(text: string): number | null {
  const cleaned = text.trim().toLowerCase().replace(/ /g, "");
  if (!cleaned) return null;
  if (/^\d+(\.\d+)?$/.test(cleaned)) return parseFloat(cleaned);
  const match = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(cleaned);
  if (!match || !(match[1] || match[2] || match[3])) return null;
  const [hours, minutes, seconds] = [match[1], match[2], match[3]].map((part) => (part ? parseFloat(part) : 0));
  return hours * 3600 + minutes * 60 + seconds;
}

function wholeNumber(text: string): number | null {
  return /^\s*\d+\s*$/.test(text) ? parseInt(text, 10) : null;
}

function overrideValue(form: RunForm, key: string): number | null {
  for (const assignment of form.overrides.split(/\s+/)) {
    const [name, value] = assignment.split("=");
    if (name === key && value !== undefined && /^\d+$/.test(value)) return parseInt(value, 10);
  }
  return null;
}

/** The problems the server would report, by field (the same limits as RunConfig). */
export function validate(form: RunForm, defaults?: Defaults): FormErrors {
  const errors: FormErrors = {};
  const budget = budgetProblem(form.totalTimesteps);
  if (budget) errors.totalTimesteps = budget;
  const envs = form.nEnvs.trim() ? wholeNumber(form.nEnvs) : null;
  if (form.nEnvs.trim() && (envs === null || envs < 1 || envs > 256))
    errors.nEnvs = "Environments must be a whole number from 1 to 256 (or empty for the algorithm's default).";
  if (wholeNumber(form.seed) === null) errors.seed = "The seed must be a whole number, 0 or more.";
  const threads = wholeNumber(form.nThreads);
  if (threads === null || threads > 256) errors.nThreads = "CPU threads must be a whole number from 0 to 256.";
  if (form.recording && !form.fastMode) {
    const clip = Number(form.clipSeconds);
    if (!form.clipSeconds.trim() || !Number.isFinite(clip) || clip < 0 || clip > 600)
      errors.clipSeconds = "The clip length must be between 0 and 600 seconds.";
  }
  const journey = parseDuration(form.journeyLength);
  if (journey === null)
    errors.journeyLength = `'${form.journeyLength}' is not a duration; write e.g. 90s, 3m, 1h30m or 10h.`;
  else if (journey <= 0 || journey > MAX_SECONDS)
    errors.journeyLength = "The journey must be longer than 0 and at most 24h.";
  if (form.name.length > 120) errors.name = "The name can have at most 120 characters.";
  const assignments = form.overrides.split(/\s+/).filter(Boolean);
  const bad = assignments.find((assignment) => !/^[a-z_]+(\.[a-z_]+)+=.+$/i.test(assignment));
  if (bad) errors.overrides = `'${bad}' is not an override; write it as section.key=value.`;
  const batch = overrideValue(form, "train.batch_size");
  // SB3 normalises each minibatch's advantages, which one sample cannot have (RunConfig: batch_size ≥ 2).
  if (batch !== null && batch < 2 && !errors.overrides) errors.overrides = "train.batch_size must be 2 or more.";
  // Only a batch size the user chose can fail to divide the rollout: left empty, the server picks one that does.
  if (form.algo === "ppo" && envs !== null && !errors.nEnvs && !errors.overrides && defaults && batch !== null) {
    const nSteps = overrideValue(form, "train.n_steps") ?? defaults.zoo.ppo.n_steps;
    if ((envs * nSteps) % batch !== 0)
      errors.overrides = `train.batch_size ${batch} must divide environments × rollout steps = ${envs * nSteps}.`;
  }
  return errors;
}

/** The request body; call only when ``validate`` found nothing. */
export function toBody(form: RunForm): TrainingConfig {
  const body: TrainingConfig = {
    game: form.game,
    algo: form.algo,
    total_timesteps: parseTimesteps(form.totalTimesteps) ?? 0,
    seed: parseInt(form.seed, 10),
    n_threads: parseInt(form.nThreads, 10),
    device: form.device,
    fast_mode: form.fastMode,
    recording: {
      enabled: form.fastMode ? false : form.recording,
      milestone_clip_seconds: form.fastMode ? 0 : Number(form.clipSeconds),
      timelapse_fps: !form.fastMode && form.timelapse ? TIMELAPSE_FPS : 0,
    },
    render: { auto: form.fastMode, length: form.journeyLength.trim(), layout: form.layout },
    overrides: form.overrides.split(/\s+/).filter(Boolean),
  };
  if (form.preset) body.preset = form.preset;
  if (form.nEnvs.trim()) body.n_envs = parseInt(form.nEnvs, 10);
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
