import { sleep as delay } from '../concurrency/abort.ts'
import { runIfMain, type Out } from './run.ts'

// #region sleep-and-hope
/** The Go seed's way: start the work, then sleep and hope it is done. */
export async function sleepAndHope(
  out: Out,
  workMs: number,
  waitMs: number,
): Promise<void> {
  out('Start')
  void (async () => {
    await delay(workMs) // stands for slow work
    out('Task finished')
  })() // fire and forget: nobody owns this
  out('End')
  await delay(waitMs) // "long enough", until the work is slower one day
}
// #endregion sleep-and-hope

export async function main(out: Out): Promise<void> {
  const lines: string[] = []
  await sleepAndHope((line) => lines.push(line), 50, 20)
  out(`printed before main returned: ${lines.join(', ')}`)
  // Let the orphan finish so this program leaves nothing running.
  await delay(60)
  out(`printed after: ${lines.slice(2).join(', ')}`)
}

runIfMain(import.meta.url, main)
