import { describe, expect, it } from "vitest";
import type { Defaults, Preset } from "./api";
import {
  applyPreset,
  clipLengthDisabled,
  emptyForm,
  parseDuration,
  parseTimesteps,
  recordingLocked,
  serverErrors,
  setFastMode,
  toBody,
  validate,
} from "./runForm";

const defaults = {
  algos: ["ppo", "a2c", "dqn", "qrdqn"],
  n_envs: { ppo: 8, a2c: 16, dqn: 1, qrdqn: 1 },
  zoo: { ppo: { n_steps: 128, batch_size: 256 }, a2c: {}, dqn: {}, qrdqn: {} },
  max_timesteps: 1_000_000_000,
  layouts: ["single", "grid"],
  recording: { enabled: true, milestone_clip_seconds: 10 },
  render: { length: "3m", layout: "single" },
} as unknown as Defaults;

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

  it("does not validate the clip length it does not send", () => {
    const form = setFastMode({ ...emptyForm(), clipSeconds: "-4" }, true);
    expect(validate(form, defaults).clipSeconds).toBeUndefined();
    expect(validate({ ...emptyForm(), clipSeconds: "-4" }, defaults).clipSeconds).toMatch(/between 0 and 600/);
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

describe("validation mirrors the server", () => {
  it("accepts the defaults", () => {
    expect(validate(emptyForm(4), defaults)).toEqual({});
  });

  it.each([
    ["totalTimesteps", "0", /between 1 and 1,000,000,000/],
    ["totalTimesteps", "2B", /between 1 and/],
    ["totalTimesteps", "lots", /as a number/],
    ["nEnvs", "0", /1 to 256/],
    ["totalTimesteps", "-5000", /must be a positive number of timesteps/],
    ["overrides", "train.batch_size=1", /train.batch_size must be 2 or more/],
    ["seed", "-1", /whole number/],
    ["nThreads", "999", /0 to 256/],
    ["journeyLength", "soon", /not a duration/],
    ["journeyLength", "25h", /at most 24h/],
    ["overrides", "nonsense", /section.key=value/],
  ])("refuses %s = %s", (field, value, message) => {
    const errors = validate({ ...emptyForm(), [field]: value }, defaults);
    expect(errors[field as keyof typeof errors]).toMatch(message);
  });

  it("leaves the PPO batch to the server when the user did not choose one", () => {
    expect(validate({ ...emptyForm(), nEnvs: "3" }, defaults)).toEqual({});
  });

  it("checks the PPO batch against rollout overrides", () => {
    const form = { ...emptyForm(), nEnvs: "4", overrides: "train.n_steps=64 train.batch_size=64" };
    expect(validate(form, defaults)).toEqual({});
    expect(validate({ ...form, overrides: "train.n_steps=64 train.batch_size=100" }, defaults).overrides).toMatch(
      /must divide/,
    );
  });

  it("parses budgets and durations as the server does", () => {
    expect(parseTimesteps("2.5M")).toBe(2_500_000);
    expect(parseTimesteps("100_000")).toBe(100_000);
    expect(parseTimesteps("4k")).toBe(4000);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("5s")).toBe(5);
    expect(parseDuration("90")).toBe(90);
    expect(parseDuration("m")).toBeNull();
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
