import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { emptyForm, FAST_MODE_TRADE_OFF, RECORDING_OFF_REASON, setFastMode, TIMELAPSE_OFF_REASON } from "../runForm";
import { CreateRunModal } from "./CreateRunModal";

/** The markup of the one input or select with this id. */
function tag(html: string, id: string): string {
  const found = new RegExp(`<(?:input|select)[^>]*id="${id}"[^>]*>`).exec(html);
  if (!found) throw new Error(`no control #${id}`);
  return found[0];
}

describe("CreateRunModal", () => {
  it("shows live recording checked and enabled without Fast Mode", () => {
    const html = renderToStaticMarkup(
      <CreateRunModal games={[]} presets={[]} cpuCount={4} onClose={() => {}} onCreated={() => {}} />,
    );
    expect(tag(html, "run-recording")).toContain('checked=""');
    expect(tag(html, "run-recording")).not.toContain("disabled");
    expect(tag(html, "run-clipSeconds")).not.toContain("disabled");
    expect(html).toContain(FAST_MODE_TRADE_OFF);
    expect(html).not.toContain(RECORDING_OFF_REASON);
    expect(html).toContain("This machine has 4.");
  });

  it("unchecks and disables recording and clip length in Fast Mode, and says why", () => {
    const html = renderToStaticMarkup(
      <CreateRunModal
        games={[]}
        presets={[]}
        cpuCount={4}
        onClose={() => {}}
        onCreated={() => {}}
        initialForm={setFastMode(emptyForm(4), true)}
      />,
    );
    expect(tag(html, "run-fastMode")).toContain('checked=""');
    const recording = tag(html, "run-recording");
    expect(recording).toContain('disabled=""');
    expect(recording).not.toContain("checked");
    expect(recording).toContain('aria-describedby="run-recording-why"');
    expect(tag(html, "run-clipSeconds")).toContain('disabled=""');
    expect(html).toContain(RECORDING_OFF_REASON);
    const timelapse = tag(html, "run-timelapse");
    expect(timelapse).toContain('disabled=""');
    expect(timelapse).not.toContain("checked");
    expect(html).toContain(TIMELAPSE_OFF_REASON);
  });

  it("labels every control", () => {
    const html = renderToStaticMarkup(
      <CreateRunModal games={[]} presets={[]} cpuCount={2} onClose={() => {}} onCreated={() => {}} />,
    );
    const ids = [...html.matchAll(/<(?:input|select)[^>]* id="([^"]+)"/g)].map((match) => match[1]);
    expect(ids.length).toBeGreaterThan(10);
    for (const id of ids) expect(html).toContain(`for="${id}"`);
  });
});
