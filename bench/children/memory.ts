/** Heap measuring for the memory children (run with `--expose-gc`). */

/** Bytes in use on the JS heap after a full collection. */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  gc()
  gc()
  const { heapUsed, external, arrayBuffers } = process.memoryUsage()
  return heapUsed + external - arrayBuffers
}

/** The process's resident memory after a full collection. */
export function rssAfterGc(): number {
  heapAfterGc()
  return process.memoryUsage().rss
}
