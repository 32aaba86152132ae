/** Timing helpers of the attempt loop: the request's own abort signal, backoff, abortable sleep. */

/**
 * The attempt loop's own signal: aborted by the client (or shutdown) or by the total deadline.
 * A plain controller and one timer — `AbortSignal.any`/`AbortSignal.timeout` showed up in the
 * CPU profile at several percent per request.
 */
export function linkedSignal(client: AbortSignal, totalMs: number) {
  const controller = new AbortController();
  const timeout = { aborted: false };
  const onClient = () => controller.abort(client.reason);
  if (client.aborted) onClient();
  else client.addEventListener("abort", onClient, { once: true });
  const timer = setTimeout(() => {
    timeout.aborted = true;
    controller.abort();
  }, totalMs);
  return {
    signal: controller.signal,
    timeout: timeout as { readonly aborted: boolean },
    dispose() {
      clearTimeout(timer);
      client.removeEventListener("abort", onClient);
    },
  };
}

export function backoff(baseMs: number, retry: number): number {
  const ms = Math.min(baseMs * 2 ** retry, 4_000);
  return ms * (0.75 + Math.random() * 0.5);
}

export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
