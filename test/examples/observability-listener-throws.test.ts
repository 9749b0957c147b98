import { expect, it } from 'vitest'
import { onEmitter, onJobEvents } from '../../src/examples/observability-listener-throws.ts'

it('observability-listener-isolated: a listener that throws makes EventEmitter\'s emit throw into the emitter', () => {
  expect(onEmitter()).toBe('emit threw into the worker: metrics: no such label "queue"')
})

it('observability-listener-isolated: on JobEvents, emit returns and the error is reported, once', () => {
  expect(onJobEvents()).toBe('emit returned; reported: metrics: no such label "queue"')
})
