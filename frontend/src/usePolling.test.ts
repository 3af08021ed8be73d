import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Poller, type PollResult, type Visibility } from "./usePolling";

/** A load whose answers the test gives, one pending request at a time. */
function controlledLoad() {
  const pending: { resolve: (value: number) => void; reject: (error: Error) => void }[] = [];
  const load = vi.fn(
    () =>
      new Promise<number>((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
  );
  return { load, pending };
}

/** A page whose visibility the test switches. */
function fakePage(): Visibility & { setHidden(hidden: boolean): void } {
  let hidden = false;
  const listeners = new Set<() => void>();
  return {
    hidden: () => hidden,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setHidden(value) {
      hidden = value;
      listeners.forEach((listener) => listener());
    },
  };
}

const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("Poller", () => {
  it("asks at once, then again only after the answer and the interval", async () => {
    const { load, pending } = controlledLoad();
    const results: PollResult<number>[] = [];
    const poller = new Poller(load, 1000, (result) => results.push(result), fakePage());
    poller.start();
    expect(load).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(load).toHaveBeenCalledTimes(1); // a slow answer: no second request on top of it
    pending[0].resolve(1);
    await settle();
    expect(results).toEqual([{ data: 1, error: null }]);
    await vi.advanceTimersByTimeAsync(999);
    expect(load).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(load).toHaveBeenCalledTimes(2);
    poller.stop();
  });

  it("drops an answer that arrives after stop (deps changed or the component left)", async () => {
    const { load, pending } = controlledLoad();
    const results: PollResult<number>[] = [];
    const poller = new Poller(load, 1000, (result) => results.push(result), fakePage());
    poller.start();
    poller.stop();
    pending[0].resolve(7);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(results).toEqual([]);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("keeps asking after an error and says what failed", async () => {
    const { load, pending } = controlledLoad();
    const results: PollResult<number>[] = [];
    const poller = new Poller(load, 1000, (result) => results.push(result), fakePage());
    poller.start();
    pending[0].reject(new Error("502 Bad Gateway"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(results).toEqual([{ error: "502 Bad Gateway" }]);
    pending[1].resolve(2);
    await settle();
    expect(results.at(-1)).toEqual({ data: 2, error: null });
    poller.stop();
  });

  it("asks nothing while the tab is hidden and at once when it is shown", async () => {
    const { load, pending } = controlledLoad();
    const page = fakePage();
    const poller = new Poller(load, 1000, () => {}, page);
    poller.start();
    pending[0].resolve(1);
    await settle();
    page.setHidden(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(load).toHaveBeenCalledTimes(1);
    page.setHidden(false);
    expect(load).toHaveBeenCalledTimes(2);
    poller.stop();
    page.setHidden(true);
    page.setHidden(false);
    expect(load).toHaveBeenCalledTimes(2); // stopped: it no longer listens
  });

  it("does not start a hidden tab's polling until it is shown", () => {
    const { load } = controlledLoad();
    const page = fakePage();
    page.setHidden(true);
    const poller = new Poller(load, 1000, () => {}, page);
    poller.start();
    expect(load).not.toHaveBeenCalled();
    page.setHidden(false);
    expect(load).toHaveBeenCalledTimes(1);
    poller.stop();
  });

  it("refresh during a request asks once more after it, never alongside it", async () => {
    const { load, pending } = controlledLoad();
    const results: PollResult<number>[] = [];
    const poller = new Poller(load, 1000, (result) => results.push(result), fakePage());
    poller.start();
    const refreshed = poller.refresh();
    void poller.refresh(); // asked twice while busy: still one more request
    expect(load).toHaveBeenCalledTimes(1);
    pending[0].resolve(1);
    await settle();
    expect(load).toHaveBeenCalledTimes(2);
    pending[1].resolve(2);
    await refreshed;
    expect(results.map((result) => result.data)).toEqual([1, 2]);
    expect(load).toHaveBeenCalledTimes(2);
    poller.stop();
  });
});
