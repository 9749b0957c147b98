import { afterAll, afterEach } from 'vitest'
import { expectNoLeaks, trackLeaks } from '../../src/concurrency/leaks.ts'

// The leak check, on for every test (goleak's VerifyNone): a test that
// leaves a task, timer, socket, server, child process or worker thread
// behind fails, naming what leaked and where it was created.

// vitest's own timers (a hook's timeout, say) are created by its code.
const runner = /(?:^|\/)node_modules\/(?:vitest|@vitest|tinypool|tinyspy)\//

const stop = trackLeaks({
  ignore: (locations) => runner.test(locations[0] ?? ''),
})

afterEach(async () => {
  await expectNoLeaks()
})

afterAll(() => {
  stop()
})
