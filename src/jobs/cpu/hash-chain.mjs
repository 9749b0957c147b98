// The CPU-bound work of the `hash` job, in plain JavaScript so that a
// worker thread can load it with no TypeScript loader. Measured once on
// the 2-core machine that wrote this: a thread starts on this file in
// 40 to 90 ms; with tsx's loader in the thread (a `.ts` file and
// `execArgv: ['--import', 'tsx']`, or flags inherited from `npm start`),
// 400 to 900 ms. And a `.ts` file would not load at all under vitest,
// whose TypeScript support does not reach into new threads.
// Types: `hash-chain.d.mts`.
// Imports node:crypto only; nothing runs at import time.
import { createHash } from 'node:crypto'

// #region chain
/**
 * The SHA-256 hash chain: digest the empty input, then digest each digest,
 * `rounds` times in all; returns the last digest in hex. Synchronous and
 * CPU-bound: it holds whichever thread runs it until it returns.
 *
 * @param {number} rounds
 * @returns {string}
 */
export function hashChain(rounds) {
  let digest = Buffer.alloc(0)
  for (let round = 0; round < rounds; round++) {
    digest = createHash('sha256').update(digest).digest()
  }
  return digest.toString('hex')
}
// #endregion chain

// #region task
/**
 * What piscina runs in a worker thread: one task, `{ rounds }` in, the
 * digest out. The same `hashChain` the event loop runs, so the two
 * measurements compare the same work.
 *
 * @param {{ rounds: number }} task
 * @returns {string}
 */
export default function hashTask({ rounds }) {
  return hashChain(rounds)
}
// #endregion task
