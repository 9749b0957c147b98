// Types for hash-chain.mjs (plain JavaScript, so worker threads load it
// without a TypeScript loader).

/** The SHA-256 hash chain of `rounds` rounds, as hex. CPU-bound, sync. */
export declare function hashChain(rounds: number): string

/** The piscina task: `{ rounds }` in, the digest out. */
export default function hashTask(task: { rounds: number }): string
