/**
 * What every benchmark child process shares: tell the parent its URL, sample its own RSS every
 * 50 ms and answer `stats` requests over IPC (`reset: true` starts a new window), and exit when the parent goes away (so no child
 * outlives a crashed or killed run).
 */

const SAMPLE_MS = 50;

/**
 * Start the sampler and the IPC handlers, then send `{type: "ready", url}`.
 * `close` runs on a `stop` message or a lost parent before the process exits.
 */
export function serveChild(url, close) {
  // Two maxima: over the whole life (never reset) and over a window the parent resets per cell.
  let peakRss = process.memoryUsage.rss();
  let windowPeakRss = peakRss;
  // What the RSS peak was made of: V8 heap (reserved) and memory outside it (Buffers, native).
  let peakHeapTotal = 0;
  let peakExternal = 0;
  const sample = () => {
    const { rss, heapTotal, external } = process.memoryUsage();
    if (rss > peakRss) peakRss = rss;
    if (heapTotal > peakHeapTotal) peakHeapTotal = heapTotal;
    if (external > peakExternal) peakExternal = external;
    if (rss > windowPeakRss) windowPeakRss = rss;
    return rss;
  };
  // CPU time (user + system) this process spent since the window started.
  let windowCpuStart = process.cpuUsage();
  const sampler = setInterval(sample, SAMPLE_MS);
  sampler.unref();

  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    clearInterval(sampler);
    try {
      await close();
    } catch (err) {
      console.error(`bench child ${process.argv[1]}: close failed:`, err);
      code = 1;
    }
    process.exit(code);
  };

  process.on("message", (msg) => {
    if (msg === null || typeof msg !== "object") return;
    if (msg.type === "stats") {
      const rss = sample();
      const { heapUsed } = process.memoryUsage();
      process.send?.({
        type: "stats",
        id: msg.id,
        rss,
        peakRss,
        windowPeakRss,
        heapUsed,
        peakHeapTotal,
        peakExternal,
        windowCpu: process.cpuUsage(windowCpuStart),
      });
      if (msg.reset === true) {
        windowPeakRss = rss;
        windowCpuStart = process.cpuUsage();
      }
    } else if (msg.type === "stop") {
      void stop(0);
    }
  });
  // The parent died or closed the channel: never linger.
  process.on("disconnect", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  process.on("SIGINT", () => void stop(0));
  process.send?.({ type: "ready", url });
}

/** Report a start-up failure to the parent and exit non-zero. */
export function failChild(err) {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.send?.({ type: "failed", message }, () => process.exit(1));
  if (process.send === undefined) {
    console.error(message);
    process.exit(1);
  }
}
