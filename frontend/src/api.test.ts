import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, requestHeaders } from "./api";

type Call = { path: string; init: RequestInit };

function recordFetch(status = 200, payload: unknown = {}): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (path: string, init: RequestInit) => {
    calls.push({ path, init });
    return new Response(status === 204 ? null : JSON.stringify(payload), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  });
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

describe("requests that change something", () => {
  it("say Content-Type: application/json, with or without a body", async () => {
    const calls = recordFetch();
    await api.action("run-1", "pause");
    await api.continueRun("run-1", { mode: "finish", steps: null });
    expect(calls[0].init.method).toBe("POST");
    expect(calls[0].init.body).toBeUndefined();
    expect(calls[0].init.headers).toEqual({ "Content-Type": "application/json" });
    expect(calls[1].init.headers).toEqual({ "Content-Type": "application/json" });
    expect(calls[1].init.body).toBe(JSON.stringify({ mode: "finish", steps: null }));
  });

  it("reads are plain GETs", () => {
    expect(requestHeaders("GET")).toEqual({});
    expect(requestHeaders("DELETE")).toEqual({ "Content-Type": "application/json" });
  });

  it("carry the server's sentence in the error", async () => {
    recordFetch(415, { detail: "Send this request with Content-Type: application/json.", errors: [] });
    const error = await api.action("run-1", "stop").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(415);
    expect((error as ApiError).message).toContain("application/json");
  });
});
