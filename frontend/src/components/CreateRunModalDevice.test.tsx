import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { emptyForm, serverErrors, toBody } from "../runForm";
import { CreateRunModal } from "./CreateRunModal";

describe("The New run form's Device field", () => {
  it("is labelled, starts at auto and is sent as train.device", () => {
    const html = renderToStaticMarkup(
      <CreateRunModal games={[]} presets={[]} cpuCount={2} onClose={() => {}} onCreated={() => {}} />,
    );
    expect(html).toContain('for="run-device"');
    expect(html).toMatch(/<select[^>]*id="run-device"[^>]*>/);
    expect(toBody(emptyForm(2)).device).toBe("auto");
    expect(toBody({ ...emptyForm(2), device: "cuda:0" }).device).toBe("cuda:0");
  });

  it("shows the server's refusal of a GPU at the field", () => {
    const sentence = "This machine has no CUDA GPU (torch 2.13.0, CPU build); use --device cpu or auto";
    expect(serverErrors([{ field: "device", message: sentence }], "")).toEqual({ device: sentence });
  });
});
