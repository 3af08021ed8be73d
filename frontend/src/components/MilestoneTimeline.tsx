// The run's milestones as the server plans them (label, absolute timesteps, reached or planned), and
// the clip filmed at each reached one, playable inline.
import { useState } from "react";
import type { Milestone, Run, Video } from "../api";
import { count, score } from "../format";
import { VideoPlayer } from "./VideoPlayer";

interface Props {
  run: Run;
  clips: Video[];
}

function describe(milestone: Milestone): string {
  if (!milestone.reached) return `planned at ${count(milestone.timesteps)} timesteps`;
  const scored = milestone.score_mean === null ? "" : `, mean score ${score(milestone.score_mean)}`;
  return `reached at ${count(milestone.timesteps)} timesteps, ${count(milestone.episodes)} episodes${scored}`;
}

export function MilestoneTimeline({ run, clips }: Props) {
  const [playing, setPlaying] = useState<number | null>(null);
  // A clip films the checkpoint saved at its milestone: both carry the same absolute timesteps.
  const clipAt = (milestone: Milestone) =>
    milestone.reached ? clips.find((clip) => clip.timesteps === milestone.timesteps) : undefined;
  const shown = run.milestones.find((milestone) => milestone.timesteps === playing);
  const shownClip = shown && clipAt(shown);
  const reached = run.milestones.filter((milestone) => milestone.reached).length;
  return (
    <section aria-labelledby="milestones-title">
      <h2 id="milestones-title">Milestones</h2>
      <p className="note">
        {reached} of {run.milestones.length} reached
        {run.fast_mode && "; Fast Mode: no live clips, the journey video shows every milestone"}.
      </p>
      <ol className="timeline" aria-label="Milestones">
        {run.milestones.map((milestone) => {
          const clip = clipAt(milestone);
          const open = playing === milestone.timesteps;
          return (
            <li
              key={`${milestone.timesteps}-${milestone.reached}`}
              className={milestone.reached ? "reached" : "planned"}
              title={describe(milestone)}
            >
              <span className="dot" aria-hidden="true" />
              <span className="pct">{milestone.label}</span>
              <span className="steps">{count(milestone.timesteps)}</span>
              <span className="sr-only">{describe(milestone)}</span>
              {clip && (
                <button
                  type="button"
                  aria-pressed={open}
                  aria-label={`${open ? "Hide" : "Play"} the clip at ${milestone.label}`}
                  onClick={() => setPlaying(open ? null : milestone.timesteps)}
                >
                  {open ? "Hide" : "Play"}
                </button>
              )}
            </li>
          );
        })}
      </ol>
      {shown && shownClip && (
        <VideoPlayer
          className="inline-player"
          key={shownClip.id}
          video={shownClip}
          autoPlay
          muted
          aria-label={`Clip at ${shown.label}`}
        />
      )}
    </section>
  );
}
