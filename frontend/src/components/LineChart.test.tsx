import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { LineChart, niceTicks } from "./LineChart";

const yTicks = (points: [number, number][]) => {
  const html = renderToStaticMarkup(
    <LineChart title="Entropy" xLabel="timesteps" series={[{ label: "e", color: "#fff", points }]} />,
  );
  return [...html.matchAll(/<text class="tick y-tick"[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]);
};

describe("LineChart", () => {
  it("labels round-number ticks with the decimals that tell them apart", () => {
    expect(
      yTicks([
        [256, 1.7912],
        [512, 1.7885],
      ]),
    ).toEqual(["1.788", "1.789", "1.790", "1.791", "1.792"]);
    expect(
      yTicks([
        [256, 123],
        [512, 184],
      ]),
    ).toEqual(["120", "140", "160", "180", "200"]);
  });

  it("gives a flat line a sensible range around its value", () => {
    expect(
      yTicks([
        [256, 1.79],
        [512, 1.79],
      ]),
    ).toEqual(["1.6", "1.7", "1.8", "1.9", "2.0"]);
    expect(
      yTicks([
        [256, -21],
        [512, -21],
      ]),
    ).toEqual(["-24", "-22", "-20", "-18"]);
  });

  it("ticks cover the range in 1, 2, 2.5 or 5 × 10^k steps", () => {
    expect(niceTicks(0, 500_000, 6)).toEqual([0, 100_000, 200_000, 300_000, 400_000, 500_000]);
    const ticks = niceTicks(0, 3072);
    expect(ticks[0]).toBe(0);
    expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(3072);
  });

  it("draws the planned x range and names both axes", () => {
    const html = renderToStaticMarkup(
      <LineChart
        title="Loss"
        yLabel="loss"
        xLabel="timesteps"
        xDomain={[0, 500_000]}
        series={[{ label: "l", color: "#fff", points: [[1000, 0.5]] }]}
      />,
    );
    expect(html).toContain(">500k<");
    expect(html).toContain(">loss<");
    expect(html).toContain(">timesteps<");
  });

  it("says what it waits for", () => {
    const html = renderToStaticMarkup(
      <LineChart title="Score" xLabel="timesteps" series={[]} empty="No episode has ended yet." />,
    );
    expect(html).toContain("No episode has ended yet.");
  });
});
