// The service's process entry with one more job type, `stubborn`, whose
// handler ignores its signal: no client of the real service can ask for
// one, so the tests that show what it costs a stop register it here.
import { defaultHandlers, stubbornJob } from '../../src/jobs/handlers.ts'
import { runProcess } from '../../src/main.ts'

runProcess({ handlers: defaultHandlers().register('stubborn', stubbornJob) })
