import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, expect, it, vi } from 'vitest'
import { main } from '../../src/examples/first-task.ts'
import { sleepAndHope } from '../../src/examples/first-task-sleep-and-hope.ts'

afterEach(() => {
  vi.useRealTimers()
})

it('intro-caller-continues: spawn returns while the task is still waiting', async () => {
  vi.useFakeTimers()
  const lines: string[] = []
  const done = main((line) => lines.push(line))
  // main ran up to its first await: spawn has returned, the task waits.
  expect(lines).toEqual(['Start', 'End'])
  await vi.advanceTimersByTimeAsync(50)
  await done
  expect(lines).toEqual(['Start', 'End', 'Task finished'])
})

it('intro-output-order: Start, End, then Task finished', async () => {
  const lines: string[] = []
  await main((line) => lines.push(line))
  expect(lines).toEqual(['Start', 'End', 'Task finished'])
})

it('intro-runs-directly: npx tsx prints the same three lines', async () => {
  const file = path.resolve('src/examples/first-task.ts')
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file])
  expect(stdout.trimEnd().split('\n')).toEqual(['Start', 'End', 'Task finished'])
})

it('intro-sleep-and-hope-loses-output: main returns before the task ends', async () => {
  vi.useFakeTimers()
  const lines: string[] = []
  let returned = false
  const run = sleepAndHope((line) => lines.push(line), 50, 20).then(() => {
    returned = true
  })
  await vi.advanceTimersByTimeAsync(20)
  await run
  expect(returned).toBe(true)
  expect(lines).toEqual(['Start', 'End'])
  // The orphan is still running: it prints after its caller has gone.
  await vi.advanceTimersByTimeAsync(30)
  expect(lines).toEqual(['Start', 'End', 'Task finished'])
})
