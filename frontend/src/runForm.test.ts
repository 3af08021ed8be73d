import { describe, expect, it } from "vitest";
import type { Preset } from "./api";
import {
  applyPreset,
  clipLengthDisabled,
  emptyForm,
  recordingLocked,
  serverErrors,
  setFastMode,
  toBody,
} from "./runForm";

describe("Fast Mode rule", () => {
  it("unchecks and locks live recording and its clip length", () => {
    const fast = setFastMode(emptyForm(), true);
    expect(fast.fastMode).toBe(true);
    expect(fast.recording).toBe(false);
    expect(recordingLocked(fast)).toBe(true);
    expect(clipLengthDisabled(fast)).toBe(true);
  });

  it("restores the previous recording choice when turned off", () => {
    const withoutRecording = { ...emptyForm(), recording: false };
    expect(setFastMode(setFastMode(withoutRecording, true), false).recording).toBe(false);
    const back = setFastMode(setFastMode(emptyForm(), true), false);
    expect(back.recording).toBe(true);
    expect(recordingLocked(back)).toBe(false);
    expect(clipLengthDisabled(back)).toBe(false);
  });

  it("sends recording off, no clips and an automatic render, whatever the form held", () => {
    const form = { ...setFastMode({ ...emptyForm(), clipSeconds: "30" }, true), recording: true };
    const body = toBody(form);
    expect(body.fast_mode).toBe(true);
    expect(body.recording).toEqual({ enabled: false, milestone_clip_seconds: 0, timelapse_fps: 0 });
    expect(body.render?.auto).toBe(true);
  });

  it("turns the training time-lapse off with it and back on after", () => {
    const filming = { ...emptyForm(), timelapse: true };
    expect(toBody(filming).recording?.timelapse_fps).toBe(2);
    const fast = { ...setFastMode(filming, true), timelapse: true };
    expect(setFastMode(filming, true).timelapse).toBe(false);
    expect(toBody(fast).recording?.timelapse_fps).toBe(0);
    expect(setFastMode(setFastMode(filming, true), false).timelapse).toBe(true);
    expect(toBody(emptyForm()).recording?.timelapse_fps).toBe(0);
  });

  it("follows a Fast Mode preset in and out", () => {
    const epic = {
      id: "epic_5h",
      title: "Epic 5-hour",
      description: "",
      config: {
        game: { id: "breakout" },
        train: { algo: "ppo", total_timesteps: 20_000_000 },
        fast_mode: true,
        render: { length: "5h" },
      },
    } as Preset;
    const quick = { id: "quick_test", title: "Quick", description: "", config: { game: { id: "pong" } } } as Preset;
    const fast = applyPreset(emptyForm(), epic);
    expect(fast.fastMode && !fast.recording).toBe(true);
    expect(fast.totalTimesteps).toBe("20_000_000");
    expect(fast.journeyLength).toBe("5h");
    const normal = applyPreset(fast, quick);
    expect(normal.fastMode).toBe(false);
    expect(normal.recording).toBe(true);
  });
});

describe("the form checks nothing itself", () => {
  it("sends each field as typed, for the server's parsers to read or refuse", () => {
    const typed = {
      ...emptyForm(),
      totalTimesteps: "2e6",
      nEnvs: " 4",
      seed: "-1",
      nThreads: "lots",
      clipSeconds: "7.5",
    };
    const body = toBody(typed);
    expect(body.total_timesteps).toBe("2e6");
    expect(body.n_envs).toBe(" 4");
    expect(body.seed).toBe("-1");
    expect(body.n_threads).toBe("lots");
    expect(body.recording?.milestone_clip_seconds).toBe("7.5");
    expect(body.overrides).toEqual([]);
    expect("n_envs" in toBody({ ...typed, nEnvs: "  " })).toBe(false);
  });

  it("places the server's 422 sentences at the fields", () => {
    const errors = serverErrors(
      [
        { field: "total_timesteps", message: "Input should be greater than 0" },
        { field: "render.length", message: "'x' is not a duration" },
        { field: "mystery", message: "Something else" },
      ],
      "fallback",
    );
    expect(errors).toEqual({
      totalTimesteps: "Input should be greater than 0",
      journeyLength: "'x' is not a duration",
      general: "Something else",
    });
    expect(serverErrors([], "Run run-1 is running")).toEqual({ general: "Run run-1 is running" });
  });
});
