import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { RunAction } from "../api";
import { aMilestone, aRun } from "../testRuns";
import { estimateText, RunControls } from "./RunControls";

/** Whether the button with this text is enabled. */
function enabled(html: string, text: string): boolean {
  const found = new RegExp(`<button[^>]*>${text}</button>`).exec(html);
  if (!found) throw new Error(`no button ${text}`);
  return !found[0].includes("disabled");
}

const render = (actions: RunAction[], status = aRun().status) =>
  renderToStaticMarkup(
    <RunControls run={aRun({ actions, status, milestones: [aMilestone()] })} onChanged={() => {}} />,
  );

describe("RunControls", () => {
  it("enables what a running run's actions allow", () => {
    const html = render(["stop", "pause", "branch"], "running");
    expect(enabled(html, "Pause")).toBe(true);
    expect(enabled(html, "Stop")).toBe(true);
    for (const text of ["Resume", "Continue…", "Delete"]) expect(enabled(html, text)).toBe(false);
    expect(html).not.toContain(">Start<");
    expect(html).toMatch(/<form aria-label="Branch"><fieldset class="bare">/);
    expect(html).toMatch(/<form aria-label="Render video"><fieldset class="bare" disabled="">/);
  });

  it("enables continue, branch, render and delete on a completed run", () => {
    const html = render(["continue", "branch", "render", "delete"]);
    for (const text of ["Continue…", "Delete"]) expect(enabled(html, text)).toBe(true);
    for (const text of ["Pause", "Resume", "Stop"]) expect(enabled(html, text)).toBe(false);
    expect(html).toMatch(/<form aria-label="Render video"><fieldset class="bare">/);
    expect(html).toContain('<option value="50">50 % · 1,000 steps</option>');
  });

  it("shows Start only for a run that may start", () => {
    expect(render(["start", "stop", "branch", "delete"], "queued")).toContain(">Start</button>");
  });
});

describe("estimateText", () => {
  const estimate = {
    segments: 2,
    frames: 180,
    seconds: 6,
    expected_bytes: 3 * 1024 * 1024,
    expected_render_seconds: 75,
    workers: 2,
    measured: true,
    note: "shows 2 of 4 milestones (always the first and the last)",
  };
  it("says the length, time, size, where the numbers come from and the subset", () => {
    expect(estimateText(estimate)).toBe(
      "6s of video in 2 segments: about 1m 15s to render and 3.0 MB on disk (measured on this machine). " +
        "The journey shows 2 of 4 milestones (always the first and the last).",
    );
  });
  it("calls an unmeasured estimate a first guess and a tiny render under a second", () => {
    const text = estimateText({ ...estimate, measured: false, note: null, expected_render_seconds: 0.4 });
    expect(text).toContain("2 segments: under a second to render");
    expect(text).toContain("a first guess until this machine has rendered one");
  });
});
