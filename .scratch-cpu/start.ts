import { createCpuPool } from '../src/jobs/cpu/pool.ts'
console.log('execArgv', process.execArgv.join(' '))
for (let i = 0; i < 3; i++) {
  const pool = createCpuPool({ size: 1 })
  const t = performance.now(); await pool.hash(1); console.log('first hash ms', (performance.now() - t).toFixed(0))
  await pool.close()
}
