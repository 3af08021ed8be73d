// The New run modal: preset, game, algorithm, budget, environments, seed, name, CPU threads, device,
// live recording or Fast Mode ⚡, journey length and layout, and the training time estimate before
// Start (the server's, from this machine's measured speed). The rules live in runForm.ts.
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import {
  api,
  ApiError,
  type Defaults,
  type Devices,
  type Game,
  type Preset,
  type Run,
  type TrainingConfig,
  type TrainingEstimate,
} from "../api";
import {
  applyPreset,
  clipLengthDisabled,
  emptyForm,
  FAST_MODE_TRADE_OFF,
  RECORDING_OFF_REASON,
  recordingLocked,
  serverErrors,
  setFastMode,
  THREADS_NOTE,
  TIMELAPSE_FPS,
  TIMELAPSE_OFF_REASON,
  toBody,
  validate,
  type FormErrors,
  type FormField,
  type RunForm,
} from "../runForm";

// The config setting behind each field: its help line is that setting's description in the config schema
// (``Field(description=...)``, served as ``defaults.descriptions``), never re-typed here.
const SETTINGS: Partial<Record<FormField, string>> = {
  name: "name",
  game: "game.id",
  algo: "train.algo",
  totalTimesteps: "train.total_timesteps",
  nEnvs: "train.n_envs",
  seed: "train.seed",
  nThreads: "train.n_threads",
  device: "train.device",
  recording: "recording.enabled",
  clipSeconds: "recording.milestone_clip_seconds",
  timelapse: "recording.timelapse_fps",
  journeyLength: "render.length",
  layout: "render.layout",
  fastMode: "fast_mode",
};

interface Props {
  games: Game[];
  presets: Preset[];
  defaults?: Defaults;
  cpuCount: number;
  onClose: () => void;
  onCreated: (run: Run) => void;
  initialForm?: RunForm;
  submit?: (body: TrainingConfig) => Promise<Run>;
}

export function CreateRunModal({ games, presets, defaults, cpuCount, onClose, onCreated, initialForm, submit }: Props) {
  const [form, setForm] = useState<RunForm>(() => initialForm ?? emptyForm(cpuCount));
  const [errors, setErrors] = useState<FormErrors>({});
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDivElement>(null);
  const [devices, setDevices] = useState<Devices | null>(null);
  const estimate = useTrainingEstimate(form, defaults);

  useEffect(() => {
    let current = true;
    api.devices().then(
      (found) => current && setDevices(found),
      () => current && setDevices(null),
    );
    return () => {
      current = false;
    };
  }, []);

  useEffect(() => {
    dialog.current?.querySelector<HTMLElement>("select, input")?.focus();
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const update = (changes: Partial<RunForm>) => {
    setForm((current) => ({ ...current, ...changes }));
    setErrors((current) => {
      const next = { ...current, general: undefined };
      for (const key of Object.keys(changes)) delete next[key as FormField];
      return next;
    });
  };

  const choosePreset = (id: string) => {
    const preset = presets.find((candidate) => candidate.id === id);
    setForm((current) => (preset ? applyPreset(current, preset) : { ...current, preset: "" }));
    setErrors({});
  };

  const start = async (event: FormEvent) => {
    event.preventDefault();
    const found = validate(form, defaults);
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      onCreated(await (submit ?? api.createRun)(toBody(form)));
    } catch (error) {
      if (error instanceof ApiError) setErrors(serverErrors(error.errors, error.message));
      else setErrors({ general: `The server could not be reached (${String(error)}).` });
    } finally {
      setBusy(false);
    }
  };

  const help = (name: FormField) => {
    const setting = SETTINGS[name];
    return setting ? defaults?.descriptions[setting] : undefined;
  };
  const field = (name: FormField, label: string, control: ReactNode, note?: string) => (
    <div className={`field${errors[name] ? " invalid" : ""}`}>
      <label htmlFor={`run-${name}`} title={help(name)}>
        {label}
      </label>
      {control}
      {note && (
        <p className="note" id={`run-${name}-note`}>
          {note}
        </p>
      )}
      {errors[name] && (
        <p className="field-error" id={`run-${name}-error`} role="alert">
          {errors[name]}
        </p>
      )}
    </div>
  );
  const describedBy = (name: FormField, note = false) =>
    [note ? `run-${name}-note` : "", errors[name] ? `run-${name}-error` : ""].filter(Boolean).join(" ") || undefined;
  const text = (name: FormField, extra: Record<string, unknown> = {}) => ({
    id: `run-${name}`,
    name,
    value: String(form[name]),
    "aria-invalid": errors[name] ? true : undefined,
    "aria-describedby": describedBy(name, Boolean(extra.note)),
    onChange: (event: { target: { value: string } }) => update({ [name]: event.target.value } as Partial<RunForm>),
  });
  const presetNote = presets.find((preset) => preset.id === form.preset)?.description;
  const envsDefault = defaults?.n_envs[form.algo];

  return (
    <div className="backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="new-run-title" ref={dialog}>
        <h2 id="new-run-title">New run</h2>
        <form onSubmit={start} noValidate>
          {errors.general && (
            <p className="form-error" role="alert">
              {errors.general}
            </p>
          )}
          <div className="grid-2">
            {field(
              "preset",
              "Preset",
              <select {...text("preset")} onChange={(event) => choosePreset(event.target.value)}>
                <option value="">No preset</option>
                {presets.map((preset) => (
                  <option key={preset.id} value={preset.id}>
                    {preset.title}
                  </option>
                ))}
              </select>,
              presetNote,
            )}
            {field("name", "Name", <input type="text" placeholder="automatic: game-algo-date" {...text("name")} />)}
            {field(
              "game",
              "Game",
              <select {...text("game")}>
                {games.map((game) => (
                  <option key={game.id} value={game.id}>
                    {game.title}
                    {game.featured ? ` (${game.difficulty})` : ""}
                  </option>
                ))}
              </select>,
            )}
            {field(
              "algo",
              "Algorithm",
              <select {...text("algo")}>
                {(defaults?.algos ?? ["ppo", "a2c", "dqn", "qrdqn"]).map((algo) => (
                  <option key={algo} value={algo}>
                    {algo.toUpperCase()}
                  </option>
                ))}
              </select>,
            )}
            {field(
              "totalTimesteps",
              "Budget (timesteps)",
              <input type="text" inputMode="numeric" {...text("totalTimesteps")} />,
            )}
            {field(
              "nEnvs",
              "Environments",
              <input
                type="number"
                min={1}
                max={256}
                placeholder={envsDefault ? `default ${envsDefault}` : "algorithm default"}
                {...text("nEnvs")}
              />,
            )}
            {field("seed", "Seed", <input type="number" min={0} {...text("seed")} />)}
            {field(
              "nThreads",
              "CPU threads",
              <input type="number" min={0} max={256} {...text("nThreads", { note: true })} />,
              `${THREADS_NOTE} This machine has ${cpuCount}.`,
            )}
            {field(
              "device",
              "Device",
              <select {...text("device", { note: true })}>
                {(devices?.choices ?? [{ value: "auto", label: "auto" }]).map((choice) => (
                  <option key={choice.value} value={choice.value}>
                    {choice.label}
                  </option>
                ))}
              </select>,
              devices ? `Where the network trains (${devices.torch}).` : undefined,
            )}
          </div>

          <fieldset className="mode">
            <legend>Speed and videos</legend>
            <div className="toggle">
              <input
                type="checkbox"
                id="run-fastMode"
                checked={form.fastMode}
                aria-describedby="run-fastMode-note"
                onChange={(event) => {
                  setForm((current) => setFastMode(current, event.target.checked));
                  setErrors((current) => ({ ...current, clipSeconds: undefined, general: undefined }));
                }}
              />
              <label htmlFor="run-fastMode" title={help("fastMode")}>
                Fast Mode ⚡
              </label>
            </div>
            <p className="note" id="run-fastMode-note">
              {FAST_MODE_TRADE_OFF}
            </p>
            <div className="toggle">
              <input
                type="checkbox"
                id="run-recording"
                checked={form.recording}
                disabled={recordingLocked(form)}
                aria-describedby={form.fastMode ? "run-recording-why" : undefined}
                onChange={(event) => update({ recording: event.target.checked })}
              />
              <label htmlFor="run-recording" title={help("recording")}>
                Live video recording (a clip at each milestone)
              </label>
            </div>
            {form.fastMode && (
              <p className="note why" id="run-recording-why">
                {RECORDING_OFF_REASON}
              </p>
            )}
            {field(
              "clipSeconds",
              "Clip length (seconds)",
              <input type="number" min={0} max={600} disabled={clipLengthDisabled(form)} {...text("clipSeconds")} />,
            )}
            <div className="toggle">
              <input
                type="checkbox"
                id="run-timelapse"
                checked={form.timelapse}
                disabled={recordingLocked(form)}
                aria-describedby={form.fastMode ? "run-timelapse-why" : undefined}
                onChange={(event) => update({ timelapse: event.target.checked })}
              />
              <label htmlFor="run-timelapse" title={help("timelapse")}>
                Training time-lapse ({TIMELAPSE_FPS} frames/s of the agent's view, for a time-lapse video later)
              </label>
            </div>
            {form.fastMode && (
              <p className="note why" id="run-timelapse-why">
                {TIMELAPSE_OFF_REASON}
              </p>
            )}
            <div className="grid-2">
              {field(
                "journeyLength",
                "Journey video length",
                <input type="text" placeholder="e.g. 90s, 3m, 1h30m" {...text("journeyLength")} />,
              )}
              {field(
                "layout",
                "Journey layout",
                <select {...text("layout")}>
                  <option value="single">Single (one game, big)</option>
                  <option value="grid">Grid (milestones side by side)</option>
                  <option value="analytics">Analytics (what the policy computes, 1280×720)</option>
                </select>,
              )}
            </div>
          </fieldset>

          <details>
            <summary>Advanced settings</summary>
            {field(
              "overrides",
              "Overrides (section.key=value, space separated)",
              <input type="text" placeholder="train.n_steps=64 train.learning_rate=1e-4" {...text("overrides")} />,
            )}
          </details>

          {estimate && (
            <p className="note training-estimate" role="status" aria-label="Training time estimate">
              {"text" in estimate ? (
                <>
                  Estimated training time: <strong>{estimate.text}</strong> ({estimate.device}; {estimate.note}).
                </>
              ) : (
                estimate.problem
              )}
            </p>
          )}
          <div className="actions">
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {busy ? "Starting…" : form.fastMode ? "Start ⚡" : "Start training"}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}

/** The training time of the run the form describes, re-asked half a second after the user stops changing it. */
function useTrainingEstimate(form: RunForm, defaults?: Defaults): TrainingEstimate | { problem: string } | null {
  const [estimate, setEstimate] = useState<TrainingEstimate | { problem: string } | null>(null);
  const body = Object.keys(validate(form, defaults)).length ? null : JSON.stringify(toBody(form));
  useEffect(() => {
    if (body === null) {
      setEstimate(null);
      return;
    }
    let current = true;
    const timer = window.setTimeout(() => {
      api.trainingEstimate(JSON.parse(body) as TrainingConfig).then(
        (found) => current && setEstimate(found),
        (error) => current && setEstimate(error instanceof ApiError ? { problem: error.message } : null),
      );
    }, 500);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [body]);
  return estimate;
}
