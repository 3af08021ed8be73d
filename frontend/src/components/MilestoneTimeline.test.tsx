import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { Video } from "../api";
import { aMilestone, aRun } from "../testRuns";
import { MilestoneTimeline } from "./MilestoneTimeline";

const clip = (timesteps: number): Video => ({
  id: 7,
  kind: "clip",
  run_id: "run-1",
  run_name: "tiny pong",
  game: "pong",
  algo: "ppo",
  milestone_pct: 50,
  milestone_label: "25 %",
  episodes: null,
  leg: 1,
  run_legs: 1,
  timesteps,
  duration_sec: 2,
  size_bytes: 1000,
  layout: null,
  length: null,
  filename: "clip.mp4",
  created_at: 0,
  file_url: "/api/videos/7/file",
  pack_urls: {},
  poster_url: null,
});

describe("MilestoneTimeline", () => {
  it("shows the run's milestones as the server labels them, reached or planned", () => {
    const run = aRun({
      status: "running",
      milestones: [
        aMilestone({ pct: 0, label: "0 %", timesteps: 0 }),
        aMilestone({ pct: 2.5, label: "2.5 %", timesteps: 100 }),
        aMilestone({ pct: 25, label: "25 %", timesteps: 1000 }),
        aMilestone({ pct: 100, label: "100 %", timesteps: 4000, reached: false, checkpoint: null, episodes: null }),
      ],
    });
    const html = renderToStaticMarkup(<MilestoneTimeline run={run} clips={[clip(1000)]} />);
    expect(html).toContain("3 of 4 reached");
    expect(html.match(/class="reached"/g)).toHaveLength(3);
    expect(html.match(/class="planned"/g)).toHaveLength(1);
    for (const label of ["0 %", "2.5 %", "25 %", "100 %"]) expect(html).toContain(`<span class="pct">${label}</span>`);
    expect(html).toContain("planned at 4,000 timesteps");
    // The one clip plays at the milestone saved at its timesteps, whatever percentage it was filmed at.
    expect(html.match(/<button/g)).toHaveLength(1);
    expect(html).toContain('aria-label="Play the clip at 25 %"');
  });
});
