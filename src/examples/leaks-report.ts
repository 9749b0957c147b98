// What the leak check says about a test that leaves things running.
import { expectNoLeaks, trackLeaks } from '../concurrency/leaks.ts'
import { spawn } from '../concurrency/task.ts'
import { runIfMain, type Out } from './run.ts'

// #region leaky
function startLeakyWork(signal: AbortSignal): () => void {
  spawn('worker-1', (taskSignal) => {
    return new Promise<void>((resolve) => {
      taskSignal.addEventListener('abort', () => resolve())
    })
  }, { signal })
  const timer = setInterval(() => {}, 1000)
  return () => clearInterval(timer)
}
// #endregion leaky

export async function main(out: Out): Promise<void> {
  const stopTracking = trackLeaks()
  const controller = new AbortController()
  const clear = startLeakyWork(controller.signal)
  // #region check
  try {
    await expectNoLeaks({ timeoutMs: 50 })
  } catch (error) {
    out((error as Error).message)
  }
  // #endregion check
  controller.abort()
  clear()
  stopTracking()
}

runIfMain(import.meta.url, main)
