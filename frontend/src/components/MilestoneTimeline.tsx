// The milestones of a run (0 %, 1 %, 2 %, 5 % … 100 %): which are reached, and the clip of each, playable inline.
import { useState } from "react";
import type { Run, Video } from "../api";

interface Props {
  run: Run;
  milestones: number[];
  clips: Video[];
}

export function MilestoneTimeline({ run, milestones, clips }: Props) {
  const [playing, setPlaying] = useState<number | null>(null);
  const clipAt = (pct: number) => clips.find((clip) => clip.milestone_pct === pct);
  const done = run.status === "completed" ? 100 : run.progress * 100;
  const shown = playing === null ? undefined : clipAt(playing);
  return (
    <section aria-labelledby="milestones-title">
      <h2 id="milestones-title">Milestones</h2>
      {run.fast_mode && <p className="note">Fast Mode: no live clips; the journey video shows every milestone.</p>}
      <ol className="timeline">
        {milestones.map((pct) => {
          const clip = clipAt(pct);
          const reached = pct <= done + 1e-9;
          return (
            <li key={pct} className={reached ? "reached" : "upcoming"}>
              <span className="dot" aria-hidden="true" />
              <span className="pct">{pct} %</span>
              {clip ? (
                <button type="button" aria-pressed={playing === pct} onClick={() => setPlaying(playing === pct ? null : pct)}>
                  {playing === pct ? "Hide clip" : "Play clip"}
                </button>
              ) : (
                <span className="sr-only">{reached ? "reached" : "not reached yet"}</span>
              )}
            </li>
          );
        })}
      </ol>
      {shown && (
        <video
          className="inline-player"
          key={shown.id}
          src={shown.file_url}
          poster={shown.poster_url ?? undefined}
          controls
          autoPlay
          muted
          aria-label={`Clip at ${shown.milestone_pct} %`}
        />
      )}
    </section>
  );
}
