/**
 * Preloaded by the load bench through NODE_OPTIONS (`--import=bench/memory-probe.mjs`), so it is
 * plain JavaScript: npm and the tsx launcher load it too, before any TypeScript loader exists. Only
 * the service process itself (the one running lib/local/main.ts) prints: a `memory-probe {json}`
 * line with its process.memoryUsage() every second, so the bench sees whether its resident memory
 * is JS heap, external buffers, or neither (native allocations).
 */
if (process.argv[1]?.endsWith('lib/local/main.ts')) {
  setInterval(() => {
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const sample = { at: Date.now(), rss, heapTotal, heapUsed, external, arrayBuffers };
    process.stdout.write(`memory-probe ${JSON.stringify(sample)}\n`);
  }, 1000).unref();
}
