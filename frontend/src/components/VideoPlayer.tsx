// A video of a run as every page plays it: its poster, the player's controls and, when its upload pack
// has them, its chapters.
import type { VideoHTMLAttributes } from "react";
import type { Video } from "../api";

type Props = { video: Video } & Omit<VideoHTMLAttributes<HTMLVideoElement>, "src" | "poster" | "controls">;

export function VideoPlayer({ video, ...attributes }: Props) {
  return (
    <video src={video.file_url} poster={video.poster_url ?? undefined} controls {...attributes}>
      {video.pack_urls.webvtt && (
        <track kind="chapters" src={video.pack_urls.webvtt} srcLang="en" label="Chapters" default />
      )}
    </video>
  );
}
