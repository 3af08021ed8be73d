import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { Defaults } from "../api";
import { CreateRunModal } from "./CreateRunModal";

describe("CreateRunModal help", () => {
  it("shows each setting's description from the config schema on its label", () => {
    const defaults = {
      algos: ["ppo", "a2c", "dqn", "qrdqn"],
      n_envs: { ppo: 8, a2c: 16, dqn: 1, qrdqn: 1 },
      descriptions: { "train.n_envs": "Parallel emulators in the vector env.", fast_mode: "Train at full speed." },
    } as unknown as Defaults;
    const html = renderToStaticMarkup(
      <CreateRunModal
        games={[]}
        presets={[]}
        defaults={defaults}
        cpuCount={2}
        onClose={() => {}}
        onCreated={() => {}}
      />,
    );
    expect(html).toContain('<label for="run-nEnvs" title="Parallel emulators in the vector env.">');
    expect(html).toContain('<label for="run-fastMode" title="Train at full speed.">');
  });
});
