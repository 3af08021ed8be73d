import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { LineChart } from "./LineChart";

const ticks = (points: [number, number][]) => {
  const html = renderToStaticMarkup(<LineChart title="Entropy" xLabel="timesteps" series={[{ label: "e", color: "#fff", points }]} />);
  return [...html.matchAll(/<text class="tick"[^>]*text-anchor="end">([^<]*)<\/text>/g)].map((match) => match[1]);
};

describe("LineChart", () => {
  it("labels the y ends with the decimals that tell them apart", () => {
    expect(ticks([[256, 1.7912], [512, 1.7885]]).slice(0, 2)).toEqual(["1.791", "1.788"]);
    expect(ticks([[256, 0.0581], [512, 0.00977]]).slice(0, 2)).toEqual(["0.06", "0.01"]);
    expect(ticks([[256, 123], [512, 184]]).slice(0, 2)).toEqual(["184", "123"]);
  });

  it("puts a flat line in a band near its value", () => {
    expect(ticks([[256, 1.79], [512, 1.79]]).slice(0, 2)).toEqual(["1.9", "1.7"]);
    expect(ticks([[256, -21], [512, -21]]).slice(0, 2)).toEqual(["-20", "-22"]);
  });

  it("says what it waits for", () => {
    const html = renderToStaticMarkup(<LineChart title="Score" xLabel="timesteps" series={[]} empty="no episode has ended yet" />);
    expect(html).toContain("no episode has ended yet");
  });
});
