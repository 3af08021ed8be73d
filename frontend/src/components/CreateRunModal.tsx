// The New run modal: preset, game, algorithm, budget, environments, seed, name, CPU threads, device,
// live recording or Fast Mode ⚡, journey length and layout, and the training time estimate before
// Start (the server's, from this machine's measured speed). The form checks nothing itself: the estimate
// is asked with the form as typed half a second after each change, and the server's refusals of it (or of
// Start) are shown at the fields they name. The form's own rules live in runForm.ts.
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
import { algoName } from "../format";
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
  type FormErrors,
  type FormField,
  type RunForm,
} from "../runForm";
import { useDebouncedAnswer } from "../useDebouncedAnswer";
import { DialogActions, FormError, Options, Toggle } from "./FormParts";
import { useDialog } from "./useDialog";

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
  // The server's refusal of Start; the estimate's refusal of the form as it stands is shown too.
  const [refused, setRefused] = useState<FormErrors>({});
  // The form as it stands, read when Start's answer arrives: a refusal of a form since edited is stale.
  const latestForm = useRef(form);
  useEffect(() => {
    latestForm.current = form;
  }, [form]);
  const [busy, setBusy] = useState(false);
  const dialog = useDialog<HTMLDivElement>(onClose, "select, input");
  const [devices, setDevices] = useState<Devices | null>(null);
  // Bumped to ask for the estimate again: after "Measure this machine", and while its probe measures.
  const [asked, setAsked] = useState(0);
  const { estimate, problems } = useTrainingEstimate(form, asked);
  const errors: FormErrors = { ...problems, ...refused };
  const probing = estimate?.probing ?? false;
  useEffect(() => {
    if (!probing) return;
    const timer = window.setTimeout(() => setAsked((count) => count + 1), 5000);
    return () => window.clearTimeout(timer);
  }, [probing, estimate]);
  const measure = () => {
    api.probeTraining(toBody(form)).then(
      () => setAsked((count) => count + 1),
      () => undefined,
    );
  };

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

  const update = (changes: Partial<RunForm>) => {
    setForm((current) => ({ ...current, ...changes }));
    setRefused((current) => {
      const next = { ...current, general: undefined };
      for (const key of Object.keys(changes)) delete next[key as FormField];
      return next;
    });
  };

  const choosePreset = (id: string) => {
    const preset = presets.find((candidate) => candidate.id === id);
    setForm((current) => (preset ? applyPreset(current, preset) : { ...current, preset: "" }));
    setRefused({});
  };

  const start = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const sent = toBody(form);
    try {
      onCreated(await (submit ?? api.createRun)(sent));
    } catch (error) {
      // Edited while Start was on its way: the estimate already answers for the form as it stands.
      if (JSON.stringify(toBody(latestForm.current)) !== JSON.stringify(sent)) return;
      if (error instanceof ApiError) setRefused(serverErrors(error.errors, error.message));
      else setRefused({ general: `The server could not be reached (${String(error)}).` });
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
  // Live recording and the time-lapse: off, and locked, in Fast Mode, which says why.
  const recordingToggle = (name: "recording" | "timelapse", label: ReactNode, why: string) => (
    <>
      <Toggle
        id={`run-${name}`}
        checked={form[name]}
        disabled={recordingLocked(form)}
        describedBy={form.fastMode ? `run-${name}-why` : undefined}
        title={help(name)}
        onChange={(checked) => update({ [name]: checked })}
      >
        {label}
      </Toggle>
      {form.fastMode && (
        <p className="note why" id={`run-${name}-why`}>
          {why}
        </p>
      )}
    </>
  );
  const presetNote = presets.find((preset) => preset.id === form.preset)?.description;
  const envsDefault = defaults?.n_envs[form.algo];

  return (
    <div className="backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="new-run-title" ref={dialog}>
        <h2 id="new-run-title">New run</h2>
        <form onSubmit={start} noValidate>
          <FormError error={errors.general} />
          <div className="grid-2">
            {field(
              "preset",
              "Preset",
              <select {...text("preset")} onChange={(event) => choosePreset(event.target.value)}>
                <option value="">No preset</option>
                <Options choices={presets.map((preset) => ({ value: preset.id, label: preset.title }))} />
              </select>,
              presetNote,
            )}
            {field("name", "Name", <input type="text" placeholder="automatic: game-algo-date" {...text("name")} />)}
            {field(
              "game",
              "Game",
              <select {...text("game")}>
                <Options
                  choices={games.map((game) => ({
                    value: game.id,
                    label: `${game.title}${game.featured ? ` (${game.difficulty})` : ""}`,
                  }))}
                />
              </select>,
            )}
            {field(
              "algo",
              "Algorithm",
              <select {...text("algo")}>
                <Options
                  choices={(defaults?.algos ?? ["ppo", "a2c", "dqn", "qrdqn"]).map((algo) => ({
                    value: algo,
                    label: algoName(algo),
                  }))}
                />
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
                <Options choices={devices?.choices ?? [{ value: "auto", label: "auto" }]} />
              </select>,
              devices ? `Where the network trains (${devices.torch}).` : undefined,
            )}
          </div>

          <fieldset className="mode">
            <legend>Speed and videos</legend>
            <Toggle
              id="run-fastMode"
              checked={form.fastMode}
              describedBy="run-fastMode-note"
              title={help("fastMode")}
              onChange={(checked) => {
                setForm((current) => setFastMode(current, checked));
                setRefused((current) => ({ ...current, clipSeconds: undefined, general: undefined }));
              }}
            >
              Fast Mode ⚡
            </Toggle>
            <p className="note" id="run-fastMode-note">
              {FAST_MODE_TRADE_OFF}
            </p>
            {recordingToggle("recording", "Live video recording (a clip at each milestone)", RECORDING_OFF_REASON)}
            {field(
              "clipSeconds",
              "Clip length (seconds)",
              <input type="number" min={0} max={600} disabled={clipLengthDisabled(form)} {...text("clipSeconds")} />,
            )}
            {recordingToggle(
              "timelapse",
              `Training time-lapse (${TIMELAPSE_FPS} frames/s of the agent's view, for a time-lapse video later)`,
              TIMELAPSE_OFF_REASON,
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
              Estimated training time: <strong>{estimate.text}</strong> ({estimate.device}; {estimate.note}).
              {estimate.basis === "first guess" && !estimate.probing && (
                <>
                  {" "}
                  <button type="button" className="link" onClick={measure}>
                    Measure this machine
                  </button>{" "}
                  (a short real training, under a minute).
                </>
              )}
            </p>
          )}
          <DialogActions onCancel={onClose} busy={busy}>
            {busy ? "Starting…" : form.fastMode ? "Start ⚡" : "Start training"}
          </DialogActions>
        </form>
      </div>
    </div>
  );
}

type EstimateAnswer = { question: string; estimate: TrainingEstimate } | { question: string; refused: ApiError };

/**
 * The training time of the run the form describes, asked half a second after the user stops changing it and
 * whenever `asked` changes; or the server's refusal of the form, by field. A refusal is shown only while it
 * answers the form as it stands, so a field being retyped loses its old sentence at once.
 */
function useTrainingEstimate(
  form: RunForm,
  asked: number,
): { estimate: TrainingEstimate | null; problems: FormErrors } {
  const question = JSON.stringify([toBody(form), asked]);
  const answer = useDebouncedAnswer<EstimateAnswer>(question, (current) =>
    api.trainingEstimate((JSON.parse(current) as [TrainingConfig, number])[0]).then(
      (estimate) => ({ question: current, estimate }),
      (error) => (error instanceof ApiError ? { question: current, refused: error } : null),
    ),
  );
  if (!answer) return { estimate: null, problems: {} };
  if ("estimate" in answer) return { estimate: answer.estimate, problems: {} };
  const current = answer.question === question;
  return { estimate: null, problems: current ? serverErrors(answer.refused.errors, answer.refused.message) : {} };
}
