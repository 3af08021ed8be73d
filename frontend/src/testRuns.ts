// A run as the server sends it, for component tests: a tiny completed-looking default plus changes.
import type { Milestone, Run } from "./api";

export function aMilestone(changes: Partial<Milestone> = {}): Milestone {
  return {
    pct: 50,
    label: "50 %",
    timesteps: 1000,
    reached: true,
    checkpoint: "runs/run-1/checkpoints/milestone_050pct_1000.zip",
    episodes: 2,
    score_mean: -20,
    ...changes,
  };
}

export function aRun(changes: Partial<Run> = {}): Run {
  return {
    run_id: "run-1",
    name: "tiny pong",
    game: "pong",
    algo: "ppo",
    status: "completed",
    fast_mode: false,
    executor: "local",
    host: null,
    pid: null,
    message: null,
    exit_code: 0,
    created_at: 0,
    started_at: 0,
    ended_at: 10,
    heartbeat_at: 10,
    render_progress: null,
    parent_run_id: null,
    parent_checkpoint: null,
    changes: null,
    legs: [{ leg: 1, budget: 2000, start_timesteps: 0, from_checkpoint: null, created_at: 0 }],
    leg: 1,
    start_timesteps: 0,
    leg_start_timesteps: 0,
    total_timesteps: 2000,
    timesteps: 2000,
    episodes: 4,
    score_mean: -20.5,
    score_best: -19,
    progress: 1,
    leg_progress: 1,
    steps_per_sec: 400,
    eta_seconds: null,
    training_seconds: 5,
    remaining_timesteps: 0,
    run_budget: 2000,
    milestones: [],
    actions: ["continue", "branch", "render", "delete"],
    has_checkpoint: true,
    ...changes,
  };
}
