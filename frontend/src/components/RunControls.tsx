// Stop / pause / resume / continue / branch / render a video / delete, each enabled when the run's
// `actions` (the server's transition table) allow it; stop and delete ask first, continue asks how far.
import { useState, type FormEvent } from "react";
import {
  api,
  ApiError,
  failureSentence,
  refusalSentence,
  type Defaults,
  type RenderEstimate,
  type Run,
  type RunAction,
  type VideoLayout,
} from "../api";
import { algoName, bytes, count, duration, percent } from "../format";
import { Link, navigate } from "../router";
import { useDebouncedAnswer } from "../useDebouncedAnswer";
import { usePolling } from "../usePolling";
import { ConfirmDialog } from "./ConfirmDialog";
import { FormError, Options } from "./FormParts";
import { ProgressBar } from "./RunBits";
import { ContinueDialog } from "./ContinueDialog";

// What each video is, in the words of the render form.
export const VIDEO_CHOICES: { value: VideoLayout; label: string; hint: string }[] = [
  { value: "single", label: "Journey", hint: "each milestone playing, one after the other" },
  { value: "grid", label: "Journey, grid", hint: "four milestones side by side" },
  { value: "analytics", label: "Journey, analytics", hint: "the game beside what the policy computes (1280×720)" },
  { value: "compare", label: "Compare runs", hint: "this run beside others of the same game, milestone by milestone" },
  { value: "highlights", label: "Highlights", hint: "the best moments cut into a short trailer" },
  { value: "timelapse", label: "Training time-lapse", hint: "the whole training, from frames captured while it ran" },
];

interface Props {
  run: Run;
  /** The server's catalogue: the default length of each kind of video. */
  defaults?: Defaults;
  onChanged: (run: Run) => void;
}

export function RunControls({ run, defaults, onChanged }: Props) {
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState<"stop" | "delete" | "continue" | null>(null);
  const [branchFrom, setBranchFrom] = useState<string>("");
  const [branchOverrides, setBranchOverrides] = useState("");
  const [length, setLength] = useState("");
  const [layout, setLayout] = useState<VideoLayout>("single");
  const [compareWith, setCompareWith] = useState<string[]>([]);
  const runs = usePolling(() => (layout === "compare" ? api.runs() : Promise.resolve([])), 10000, [layout]);
  const rivals = (runs.data ?? []).filter((other) => other.game === run.game && other.run_id !== run.run_id);
  const estimate = useRenderEstimate(run, layout, length);

  const act = async (work: () => Promise<Run | void>) => {
    setError(null);
    try {
      const result = await work();
      if (result) onChanged(result);
    } catch (failure) {
      setError(failureSentence(failure));
    }
  };
  const allowed = (action: RunAction) => run.actions.includes(action);
  const reached = run.milestones.filter((milestone) => milestone.reached);
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
    const body = { length: length.trim() || undefined, layout, compare_with: layout === "compare" ? compareWith : [] };
    void act(() => api.render(run.run_id, body));
  };

  return (
    <section className="controls" aria-label="Run controls">
      <FormError error={error} />
      <div className="buttons">
        {allowed("start") && (
          <button type="button" onClick={() => act(() => api.action(run.run_id, "start"))}>
            Start
          </button>
        )}
        <button type="button" disabled={!allowed("pause")} onClick={() => act(() => api.action(run.run_id, "pause"))}>
          Pause
        </button>
        <button type="button" disabled={!allowed("resume")} onClick={() => act(() => api.action(run.run_id, "resume"))}>
          Resume
        </button>
        <button type="button" className="danger" disabled={!allowed("stop")} onClick={() => setAsking("stop")}>
          Stop
        </button>
        <button type="button" disabled={!allowed("continue")} onClick={() => setAsking("continue")}>
          Continue…
        </button>
        <button type="button" className="danger" disabled={!allowed("delete")} onClick={() => setAsking("delete")}>
          Delete
        </button>
      </div>
      {run.status === "rendering" && (
        <div className="render-status" role="status" aria-label="Video render">
          <span>
            Rendering a video: <strong>{percent(run.render_progress ?? 0)}</strong> done. The other controls come back
            when it is written or cancelled.
          </span>
          <ProgressBar value={run.render_progress ?? 0} label={`Video render of ${run.name}`} />
          <button
            type="button"
            className="danger"
            disabled={!allowed("cancel_render")}
            onClick={() => act(() => api.cancelRender(run.run_id))}
          >
            Cancel render
          </button>
        </div>
      )}
      {run.status === "failed" && !run.has_checkpoint ? (
        <p className="note failed-hint">
          This run failed before it saved a checkpoint, so there is nothing to continue, branch or render. Start a{" "}
          <Link href="/">new run</Link> with other settings, or delete this one.
        </p>
      ) : (
        <div className="control-forms">
          <form onSubmit={branch} aria-label="Branch">
            <fieldset className="bare" disabled={!allowed("branch") || reached.length === 0}>
              <label htmlFor="branch-from">Branch from milestone</label>
              <select id="branch-from" value={branchFrom} onChange={(event) => setBranchFrom(event.target.value)}>
                <option value="">{reached.length ? "choose…" : "none reached yet"}</option>
                {reached.map((milestone) => (
                  <option key={milestone.timesteps} value={milestone.pct}>
                    {milestone.label} · {count(milestone.timesteps)} steps
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
            </fieldset>
          </form>
          <form onSubmit={render} aria-label="Render video">
            <fieldset className="bare" disabled={!allowed("render")}>
              <label htmlFor="render-layout">Video</label>
              <select
                id="render-layout"
                value={layout}
                onChange={(event) => setLayout(event.target.value as VideoLayout)}
              >
                <Options choices={VIDEO_CHOICES} />
              </select>
              <label htmlFor="render-length">Length</label>
              <input
                id="render-length"
                placeholder={defaults?.video_lengths[layout] ?? "the run's (e.g. 3m)"}
                value={length}
                onChange={(event) => setLength(event.target.value)}
              />
              <button type="submit">Render video</button>
              <p className="note">{VIDEO_CHOICES.find((choice) => choice.value === layout)?.hint}</p>
              {estimate && (
                <p className="note render-estimate" role="status" aria-label="Render estimate">
                  {"problem" in estimate ? estimate.problem : estimateText(estimate)}
                </p>
              )}
              {layout === "compare" && (
                <fieldset aria-label="Runs to compare with">
                  <legend>Compare with</legend>
                  {rivals.length === 0 && <p className="note">No other {run.game} run to compare with yet.</p>}
                  {rivals.map((other) => (
                    <label key={other.run_id} className="check">
                      <input
                        type="checkbox"
                        checked={compareWith.includes(other.run_id)}
                        onChange={(event) =>
                          setCompareWith(
                            event.target.checked
                              ? [...compareWith, other.run_id]
                              : compareWith.filter((id) => id !== other.run_id),
                          )
                        }
                      />
                      {other.name} ({algoName(other.algo)})
                    </label>
                  ))}
                </fieldset>
              )}
            </fieldset>
          </form>
        </div>
      )}
      {asking === "continue" && (
        <ContinueDialog
          run={run}
          onCancel={() => setAsking(null)}
          onContinue={async (body) => {
            onChanged(await api.continueRun(run.run_id, body));
            setAsking(null);
          }}
        />
      )}
      {asking === "stop" && (
        <ConfirmDialog
          title="Stop this run?"
          message={
            run.status === "rendering"
              ? `Stopping cancels the video render of ${run.name}: no video is made; its checkpoints stay.`
              : `${run.name} saves a checkpoint and stops; Continue trains it further later.`
          }
          confirmLabel="Stop run"
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            setAsking(null);
            void act(() => api.action(run.run_id, "stop"));
          }}
        />
      )}
      {asking === "delete" && (
        <ConfirmDialog
          title="Delete this run?"
          message={`${run.name}, its checkpoints, clips and journey videos are removed for good.`}
          confirmLabel="Delete run"
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            setAsking(null);
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

/** "About 1 min 10 s to render and 45 MB, from this machine's earlier renders" (and the subset note). */
export function estimateText(estimate: RenderEstimate): string {
  const source = estimate.measured ? "measured on this machine" : "a first guess until this machine has rendered one";
  const time =
    estimate.expected_render_seconds < 1 ? "under a second" : `about ${duration(estimate.expected_render_seconds)}`;
  const subset = estimate.note ? ` The journey ${estimate.note}.` : "";
  return (
    `${duration(estimate.seconds)} of video in ${estimate.segments} segments: ${time} to render and ` +
    `${bytes(estimate.expected_bytes)} on disk (${source}).${subset}`
  );
}

/**
 * The estimate of the render the form describes, re-asked half a second after the user stops typing; or the
 * server's sentence refusing the length as typed.
 */
function useRenderEstimate(run: Run, layout: VideoLayout, length: string): RenderEstimate | { problem: string } | null {
  const question = run.actions.includes("render") ? JSON.stringify([run.run_id, layout, length.trim()]) : null;
  return useDebouncedAnswer(question, (asked) => {
    const [runId, askedLayout, askedLength] = JSON.parse(asked) as [string, VideoLayout, string];
    return api
      .renderEstimate(runId, askedLayout, askedLength)
      .catch((error) => (error instanceof ApiError ? { problem: refusalSentence(error) } : null));
  });
}
