import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { Run } from "../api";
import { aRun } from "../testRuns";
import { ContinueDialog, continueBody, defaultMode } from "./ContinueDialog";

/** The markup of the one input with this value attribute (radios) or id. */
function input(html: string, match: string): string {
  const found = new RegExp(`<input[^>]*${match}[^>]*>`).exec(html);
  if (!found) throw new Error(`no input ${match}`);
  return found[0];
}

const render = (run: Run) =>
  renderToStaticMarkup(<ContinueDialog run={run} onCancel={() => {}} onContinue={async () => {}} />);

describe("ContinueDialog", () => {
  it("offers to finish a stopped run's plan first, showing what is left", () => {
    const stopped = aRun({ status: "stopped", timesteps: 500, remaining_timesteps: 1500 });
    expect(defaultMode(stopped)).toBe("finish");
    const html = render(stopped);
    expect(input(html, 'value="finish"')).toContain('checked=""');
    expect(input(html, 'value="finish"')).not.toContain("disabled");
    expect(input(html, 'value="more"')).not.toContain("checked");
    expect(input(html, 'id="continue-steps"')).toContain('disabled=""');
    expect(html).toContain("Finish the planned budget");
    expect(html).toContain("1,500 timesteps left, up to 2,000.");
  });

  it("trains the run's budget more when nothing is left, and cannot finish", () => {
    const completed = aRun({ status: "completed", timesteps: 2000, remaining_timesteps: 0, run_budget: 2000 });
    expect(defaultMode(completed)).toBe("more");
    const html = render(completed);
    expect(input(html, 'value="finish"')).toContain('disabled=""');
    expect(input(html, 'value="more"')).toContain('checked=""');
    const steps = input(html, 'id="continue-steps"');
    expect(steps).toContain('value="2000"');
    expect(steps).not.toContain("disabled");
    expect(html).toContain("Nothing is left");
    expect(html).toContain('for="continue-steps"');
  });

  it("posts the mode, with steps only for 'more'", () => {
    expect(continueBody("finish", "anything")).toEqual({ mode: "finish", steps: null });
    // The timesteps go as typed: the server's budget parser reads 5k and refuses 0 (a test of the web app).
    expect(continueBody("more", "5k")).toEqual({ mode: "more", steps: "5k" });
  });
});
