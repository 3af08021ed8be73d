// Stop / pause / resume / continue / branch / render journey / delete, each shown when the run's
// status allows it; stop and delete ask first.
import { useState, type FormEvent } from "react";
import { api, ApiError, type Layout, type Run } from "../api";
import { navigate } from "../router";
import { parseDuration, parseTimesteps } from "../runForm";
import { ConfirmDialog } from "./ConfirmDialog";

const FINAL = ["completed", "failed", "stopped", "interrupted"];

interface Props {
  run: Run;
  milestones: number[];
  onChanged: (run: Run) => void;
}

export function RunControls({ run, milestones, onChanged }: Props) {
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<"stop" | "delete" | null>(null);
  const [steps, setSteps] = useState("100k");
  const [branchFrom, setBranchFrom] = useState<string>("");
  const [branchOverrides, setBranchOverrides] = useState("");
  const [length, setLength] = useState("");
  const [layout, setLayout] = useState<Layout>("single");

  const act = async (work: () => Promise<Run | void>) => {
    setError(null);
    try {
      const result = await work();
      if (result) onChanged(result);
    } catch (failure) {
      setError(failure instanceof ApiError || failure instanceof Error ? failure.message : String(failure));
    }
  };
  const final = FINAL.includes(run.status);
  const continueRun = (event: FormEvent) => {
    event.preventDefault();
    const value = parseTimesteps(steps);
    if (!value) return setError("Write the extra timesteps as a number, e.g. 100000 or 100k.");
    void act(() => api.continueRun(run.run_id, value));
  };
  const branch = (event: FormEvent) => {
    event.preventDefault();
    if (branchFrom === "") return setError("Pick the milestone the branch starts from.");
    const overrides = branchOverrides.split(/\s+/).filter(Boolean);
    void act(async () => {
      const child = await api.branch(run.run_id, { from_milestone_pct: Number(branchFrom), overrides });
      navigate(`/runs/${child.run_id}`);
    });
  };
  const render = (event: FormEvent) => {
    event.preventDefault();
    if (length.trim() && parseDuration(length) === null)
      return setError(`'${length}' is not a duration; write e.g. 90s, 3m, 1h30m or 10h.`);
    void act(() => api.render(run.run_id, { length: length.trim() || undefined, layout }));
  };

  return (
    <section className="controls" aria-label="Run controls">
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="buttons">
        {run.status === "queued" && (
          <button type="button" onClick={() => act(() => api.action(run.run_id, "start"))}>
            Start
          </button>
        )}
        {run.status === "running" && (
          <button type="button" onClick={() => act(() => api.action(run.run_id, "pause"))}>
            Pause
          </button>
        )}
        {run.status === "paused" && (
          <button type="button" onClick={() => act(() => api.action(run.run_id, "resume"))}>
            Resume
          </button>
        )}
        {["running", "paused", "queued"].includes(run.status) && (
          <button type="button" className="danger" onClick={() => setConfirm("stop")}>
            Stop
          </button>
        )}
        {final && (
          <button type="button" className="danger" onClick={() => setConfirm("delete")}>
            Delete
          </button>
        )}
      </div>
      {final && (
        <div className="control-forms">
          <form onSubmit={continueRun} aria-label="Continue training">
            <label htmlFor="continue-steps">More timesteps</label>
            <input id="continue-steps" value={steps} onChange={(event) => setSteps(event.target.value)} />
            <button type="submit">Continue</button>
          </form>
          <form onSubmit={branch} aria-label="Branch">
            <label htmlFor="branch-from">Branch from milestone</label>
            <select id="branch-from" value={branchFrom} onChange={(event) => setBranchFrom(event.target.value)}>
              <option value="">choose…</option>
              {milestones.map((pct) => (
                <option key={pct} value={pct}>
                  {pct} %
                </option>
              ))}
            </select>
            <label htmlFor="branch-overrides">Changes</label>
            <input
              id="branch-overrides"
              placeholder="train.learning_rate=1e-4"
              value={branchOverrides}
              onChange={(event) => setBranchOverrides(event.target.value)}
            />
            <button type="submit">Branch</button>
          </form>
          <form onSubmit={render} aria-label="Render journey">
            <label htmlFor="render-length">Journey length</label>
            <input
              id="render-length"
              placeholder="the run's (e.g. 3m)"
              value={length}
              onChange={(event) => setLength(event.target.value)}
            />
            <label htmlFor="render-layout">Layout</label>
            <select id="render-layout" value={layout} onChange={(event) => setLayout(event.target.value as Layout)}>
              <option value="single">Single</option>
              <option value="grid">Grid</option>
            </select>
            <button type="submit">Render journey</button>
          </form>
        </div>
      )}
      {confirm === "stop" && (
        <ConfirmDialog
          title="Stop this run?"
          message={`${run.name} saves a checkpoint and stops; Continue trains it further later.`}
          confirmLabel="Stop run"
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            setConfirm(null);
            void act(() => api.action(run.run_id, "stop"));
          }}
        />
      )}
      {confirm === "delete" && (
        <ConfirmDialog
          title="Delete this run?"
          message={`${run.name}, its checkpoints, clips and journey videos are removed for good.`}
          confirmLabel="Delete run"
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            setConfirm(null);
            void act(async () => {
              await api.deleteRun(run.run_id);
              navigate("/");
            });
          }}
        />
      )}
    </section>
  );
}
