/**
 * The delays before each retry, as a seeded run produces them: base one
 * second, capped at a minute, "equal jitter".
 */
import { backoffDelay } from '../jobs/retry.ts'
import { runIfMain, type Out } from './run.ts'

/** mulberry32: a small seeded generator of numbers in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export async function main(out: Out): Promise<void> {
  // #region seeded
  const policy = { baseMs: 1_000, maxMs: 60_000, random: seeded(7) }
  out('attempt  ceiling   delay')
  for (let attempt = 1; attempt <= 8; attempt++) {
    const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1))
    const delay = backoffDelay(attempt, policy)
    const cells = [attempt, ceiling, delay].map(String)
    out(cells.map((c, i) => c.padStart(i === 0 ? 7 : 8)).join(' '))
  }
  // #endregion seeded
}

runIfMain(import.meta.url, main)
