// The service's process entry with one more job type, `store`, that takes
// any payload and waits a minute: a stand-in for an application's own
// types, whose payloads the service cannot know, to fill the store with.
import { sleep } from '../../src/concurrency/abort.ts'
import { defaultHandlers } from '../../src/jobs/handlers.ts'
import { runProcess } from '../../src/main.ts'

runProcess({
  handlers: defaultHandlers().register('store', {
    run: (_job, { signal }) => sleep(60_000, { signal }),
  }),
})
