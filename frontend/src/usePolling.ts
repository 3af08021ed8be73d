// Fetch now and every ``ms`` milliseconds while the component is shown and the tab is visible.
//
// The next request starts ``ms`` after the previous one answered, so requests never overlap and a
// slow server is not asked faster than it answers; an answer that arrives after the component left
// (or after its deps changed) is dropped, never shown over a newer one. A hidden tab asks nothing
// and asks at once when it is shown again. Errors keep the last value.
import { useEffect, useRef, useState } from "react";

/** Whether the page is hidden, and a way to hear when that changes (the browser's document by default). */
export interface Visibility {
  hidden(): boolean;
  onChange(listener: () => void): () => void;
}

export const pageVisibility: Visibility = {
  hidden: () => typeof document !== "undefined" && document.visibilityState === "hidden",
  onChange(listener) {
    if (typeof document === "undefined") return () => {};
    document.addEventListener("visibilitychange", listener);
    return () => document.removeEventListener("visibilitychange", listener);
  },
};

export type PollResult<T> = { data: T; error: null } | { data?: undefined; error: string };

/** The polling loop without React: one request at a time, nothing delivered after ``stop``. */
export class Poller<T> {
  private running = false;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopListening = () => {};

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ms: number,
    private readonly deliver: (result: PollResult<T>) => void,
    private readonly visibility: Visibility = pageVisibility,
  ) {}

  start(): void {
    this.running = true;
    this.stopListening = this.visibility.onChange(() => this.visibilityChanged());
    this.tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.stopListening();
  }

  /** Ask now (after the request in flight, if one is); resolves once that answer is delivered. */
  async refresh(): Promise<void> {
    if (!this.running) return;
    if (!this.inFlight) return this.fetch();
    this.again = true;
    await this.inFlight;
    // The answer in flight started the asked-for request as it finished: wait for that one too.
    await this.inFlight;
  }

  private tick(): void {
    // Hidden: no request and no timer; visibilityChanged asks again when the tab is shown.
    if (this.running && !this.visibility.hidden()) void this.fetch();
  }

  private visibilityChanged(): void {
    if (this.running && !this.inFlight && !this.visibility.hidden()) {
      clearTimeout(this.timer);
      void this.fetch();
    }
  }

  private fetch(): Promise<void> {
    clearTimeout(this.timer);
    this.inFlight = (async () => {
      try {
        const data = await this.load();
        if (this.running) this.deliver({ data, error: null });
      } catch (failure) {
        if (this.running) this.deliver({ error: failure instanceof Error ? failure.message : String(failure) });
      } finally {
        this.inFlight = null;
        if (this.running && this.again) {
          this.again = false;
          void this.fetch();
        } else if (this.running) {
          this.timer = setTimeout(() => this.tick(), this.ms);
        }
      }
    })();
    return this.inFlight;
  }
}

export function usePolling<T>(load: () => Promise<T>, ms: number, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const poller = useRef<Poller<T> | null>(null);
  useEffect(() => {
    const current = new Poller(
      () => loadRef.current(),
      ms,
      (result) => {
        if (result.error === null) setData(result.data);
        setError(result.error);
      },
    );
    poller.current = current;
    current.start();
    return () => current.stop();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ms, ...deps]);
  const refresh = () => poller.current?.refresh() ?? Promise.resolve();
  return { data, error, refresh };
}
