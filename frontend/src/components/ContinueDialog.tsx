// "Continue training": finish the run's planned budget, or train N more (N defaults to the budget the
// run was created with). The numbers come from the run; the server refuses what cannot be done.
import { useState, type FormEvent } from "react";
import { refusalSentence, type ContinueBody, type ContinueMode, type Run } from "../api";
import { count } from "../format";
import { DialogActions, FormError } from "./FormParts";
import { useDialog } from "./useDialog";

/** Finish when something of the plan is left (a stopped or interrupted run), else train more. */
export function defaultMode(run: Run): ContinueMode {
  return run.remaining_timesteps > 0 ? "finish" : "more";
}

/** The request body of the choice: the timesteps as typed, read (or refused) by the server's budget parser. */
export function continueBody(mode: ContinueMode, steps: string): ContinueBody {
  return mode === "finish" ? { mode, steps: null } : { mode, steps };
}

interface Props {
  run: Run;
  onCancel: () => void;
  onContinue: (body: ContinueBody) => Promise<void>;
}

export function ContinueDialog({ run, onCancel, onContinue }: Props) {
  const [mode, setMode] = useState<ContinueMode>(() => defaultMode(run));
  const [steps, setSteps] = useState(() => String(run.run_budget));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useDialog<HTMLFormElement>(onCancel, "input[type=radio]:checked");
  const nothingLeft = run.remaining_timesteps <= 0;

  const choice = (value: ContinueMode, label: string, disabled = false) => (
    <label className="choice">
      <input
        type="radio"
        name="continue-mode"
        value={value}
        checked={mode === value}
        disabled={disabled}
        aria-describedby={`continue-${value}-note`}
        onChange={() => {
          setMode(value);
          setError(null);
        }}
      />
      {label}
    </label>
  );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onContinue(continueBody(mode, steps));
    } catch (failure) {
      setError(refusalSentence(failure));
      setBusy(false);
    }
  };

  return (
    <div className="backdrop">
      <form
        ref={form}
        className="modal small continue"
        role="dialog"
        aria-modal="true"
        aria-labelledby="continue-title"
        onSubmit={submit}
        noValidate
      >
        <h2 id="continue-title">Continue training</h2>
        <p className="note">
          {run.name} trains further from its latest checkpoint, as leg {run.leg + 1}. Milestones it reached stay.
        </p>
        {choice("finish", "Finish the planned budget", nothingLeft)}
        <p className="note choice-note" id="continue-finish-note">
          {nothingLeft
            ? `Nothing is left: the run trained its whole plan of ${count(run.total_timesteps)} timesteps.`
            : `${count(run.remaining_timesteps)} timesteps left, up to ${count(run.total_timesteps)}.`}
        </p>
        {choice("more", "Train more")}
        <div className="field choice-note">
          <label htmlFor="continue-steps">Timesteps to add</label>
          <input
            id="continue-steps"
            inputMode="numeric"
            value={steps}
            disabled={mode !== "more"}
            onChange={(event) => {
              setSteps(event.target.value);
              setError(null);
            }}
          />
        </div>
        <p className="note choice-note" id="continue-more-note">
          The default is the run's own budget, {count(run.run_budget)}; the milestones still ahead are planned over the
          new total.
        </p>
        <FormError error={error} />
        <DialogActions onCancel={onCancel} busy={busy}>
          Continue
        </DialogActions>
      </form>
    </div>
  );
}
