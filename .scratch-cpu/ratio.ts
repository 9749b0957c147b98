import { compare } from '../src/examples/cpu-loop-delay.ts'
for (let i = 0; i < 3; i++) {
  const { loop, pool } = await compare()
  console.log((loop.maxDelayMs / pool.maxDelayMs).toFixed(1), (loop.slowestProbeMs / pool.slowestProbeMs).toFixed(1), loop.maxDelayMs.toFixed(0), pool.maxDelayMs.toFixed(0), pool.slowestProbeMs.toFixed(1))
}
