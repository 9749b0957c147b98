import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { Channel, ChannelClosedError } from '../../src/concurrency/channel.ts'
import { nextTurn, track } from '../support/promises.ts'

const flush = nextTurn

describe('new Channel()', () => {
  it('is unbuffered by default', () => {
    const ch = new Channel<number>()
    expect(ch.capacity).toBe(0)
    expect(ch.length).toBe(0)
    expect(ch.closed).toBe(false)
  })

  it('rejects a capacity that is not a whole number from 0 up', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new Channel(bad)).toThrow(RangeError)
    }
    expect(() => new Channel(-1)).toThrow(
      'Expected `capacity` to be an integer from 0 and up, got `-1` (number)',
    )
    expect(() => new Channel('2' as unknown as number)).toThrow(
      new TypeError(
        'Expected `capacity` to be an integer from 0 and up, got `2` (string)',
      ),
    )
  })
})

describe('an unbuffered channel', () => {
  it('channels-unbuffered-send-waits: a send resolves only when a receiver has taken the value', async () => {
    const ch = new Channel<string>()
    const sent = track(ch.send('job-1'))
    await flush()
    expect(sent.state).toBe('pending')
    expect(ch.length).toBe(0)

    await expect(ch.recv()).resolves.toEqual({ value: 'job-1', ok: true })
    await flush()
    expect(sent.state).toBe('fulfilled')
  })

  it('channels-unbuffered-try-send: trySend succeeds only when a receiver is already waiting', async () => {
    const ch = new Channel<string>()
    expect(ch.trySend('nobody')).toBe(false)
    expect(ch.tryRecv()).toBeUndefined() // the refused value went nowhere

    const received = ch.recv()
    expect(ch.trySend('job-1')).toBe(true)
    await expect(received).resolves.toEqual({ value: 'job-1', ok: true })
  })

  it('tryRecv takes the value of a waiting sender and resolves its send', async () => {
    const ch = new Channel<number>()
    expect(ch.tryRecv()).toBeUndefined()
    const sent = ch.send(7)
    expect(ch.tryRecv()).toEqual({ value: 7, ok: true })
    await expect(sent).resolves.toBeUndefined()
  })

  it('channels-handoff-order: the side that was waiting resumes before the side that arrived', async () => {
    const order: string[] = []
    const ch = new Channel<number>()

    const receiving = ch.recv().then(() => order.push('waiting receiver'))
    const sending = ch.send(1).then(() => order.push('arriving sender'))
    await Promise.all([receiving, sending])

    const sending2 = ch.send(2).then(() => order.push('waiting sender'))
    const receiving2 = ch.recv().then(() => order.push('arriving receiver'))
    await Promise.all([sending2, receiving2])

    expect(order).toEqual([
      'waiting receiver',
      'arriving sender',
      'waiting sender',
      'arriving receiver',
    ])
  })
})

describe('a buffered channel', () => {
  it('channels-buffered-send-at-once: a send resolves at once while there is room, then waits for a receive', async () => {
    const ch = new Channel<number>(2)
    await ch.send(1)
    await ch.send(2)
    expect(ch.length).toBe(2)

    const third = track(ch.send(3))
    await flush()
    expect(third.state).toBe('pending')

    expect(ch.tryRecv()).toEqual({ value: 1, ok: true })
    await flush()
    expect(third.state).toBe('fulfilled')
    expect(ch.length).toBe(2) // 2 and 3
  })

  it('channels-try-send-full: trySend returns false when the buffer is full, and adds nothing', async () => {
    const ch = new Channel<string>(1)
    expect(ch.trySend('a')).toBe(true)
    expect(ch.trySend('b')).toBe(false)
    expect(ch.length).toBe(1)
    await expect(ch.recv()).resolves.toEqual({ value: 'a', ok: true })
    expect(ch.tryRecv()).toBeUndefined()
  })

  it('channels-fifo: values come out in the order they went in, waiting senders included', async () => {
    const ch = new Channel<number>(2)
    const sends = [1, 2, 3, 4, 5].map((n) => track(ch.send(n)))
    await flush()
    expect(sends.map((s) => s.state)).toEqual([
      'fulfilled',
      'fulfilled',
      'pending',
      'pending',
      'pending',
    ])

    const values: number[] = []
    for (let i = 0; i < 5; i++) {
      const { value } = await ch.recv()
      values.push(value as number)
      await flush()
      // Each receive frees one slot, for the sender that waited longest.
      expect(sends.map((s) => s.state).indexOf('pending')).toBe(
        i + 3 < 5 ? i + 3 : -1,
      )
    }
    expect(values).toEqual([1, 2, 3, 4, 5])
  })

  it('channels-fifo: waiting receivers are served first come, first served', async () => {
    const ch = new Channel<string>(3)
    const receivers = [ch.recv(), ch.recv(), ch.recv()]
    ch.trySend('a')
    await ch.send('b')
    ch.trySend('c')
    await expect(Promise.all(receivers)).resolves.toEqual([
      { value: 'a', ok: true },
      { value: 'b', ok: true },
      { value: 'c', ok: true },
    ])
    expect(ch.length).toBe(0) // handed over directly, not buffered
  })
})

describe('close()', () => {
  it('channels-recv-closed-ok-false: a receive from a closed channel does not fail, it answers ok: false', async () => {
    const ch = new Channel<string>()
    ch.close()
    await expect(ch.recv()).resolves.toEqual({ value: undefined, ok: false })
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false })
  })

  it('channels-close-wakes-receivers: receivers waiting on a closed channel get ok: false', async () => {
    const ch = new Channel<string>(1)
    const waiting = [ch.recv(), ch.recv()]
    ch.close()
    await expect(Promise.all(waiting)).resolves.toEqual([
      { value: undefined, ok: false },
      { value: undefined, ok: false },
    ])
  })

  it('channels-close-rejects-senders: senders waiting on a closed channel reject with ChannelClosedError', async () => {
    const ch = new Channel<string>(1)
    await ch.send('kept')
    const waiting = ch.send('refused')
    ch.close()
    await expect(waiting).rejects.toBeInstanceOf(ChannelClosedError)
    expect(ch.tryRecv()).toEqual({ value: 'kept', ok: true })
    expect(ch.tryRecv()).toEqual({ value: undefined, ok: false })
  })

  it('channels-close-drains-buffer: buffered values are still received, then ok: false at once, forever', async () => {
    const ch = new Channel<number>(3)
    await ch.send(1)
    await ch.send(2)
    ch.close()
    expect(ch.closed).toBe(true)
    await expect(ch.recv()).resolves.toEqual({ value: 1, ok: true })
    await expect(ch.recv()).resolves.toEqual({ value: 2, ok: true })
    for (let i = 0; i < 3; i++) {
      await expect(ch.recv()).resolves.toEqual({ value: undefined, ok: false })
    }
  })

  it('channels-send-closed-throws: send rejects and trySend throws ChannelClosedError on a closed channel', async () => {
    const ch = new Channel<number>(5)
    ch.close()
    await expect(ch.send(1)).rejects.toThrow(
      new ChannelClosedError('send on closed channel'),
    )
    expect(() => ch.trySend(1)).toThrow(ChannelClosedError)
    expect(ch.length).toBe(0)
  })

  it('channels-close-twice-throws: closing a closed channel throws ChannelClosedError', () => {
    const ch = new Channel()
    ch.close()
    expect(() => ch.close()).toThrow(
      new ChannelClosedError('close of closed channel'),
    )
  })

  it('ChannelClosedError is an Error whose name is ChannelClosedError', () => {
    const error = new ChannelClosedError('x')
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('ChannelClosedError')
  })
})

describe('a signal', () => {
  it('channels-abort-send: a waiting send whose signal aborts rejects with its reason and delivers nothing', async () => {
    const ch = new Channel<string>()
    const controller = new AbortController()
    const first = ch.send('withdrawn', { signal: controller.signal })
    const second = ch.send('delivered')
    const reason = new Error('stop')
    controller.abort(reason)

    await expect(first).rejects.toBe(reason)
    await expect(ch.recv()).resolves.toEqual({ value: 'delivered', ok: true })
    await expect(second).resolves.toBeUndefined()
    expect(ch.tryRecv()).toBeUndefined()
  })

  it('channels-abort-recv: a waiting receive whose signal aborts rejects with its reason and takes nothing', async () => {
    const ch = new Channel<string>()
    const controller = new AbortController()
    const first = ch.recv({ signal: controller.signal })
    const second = ch.recv()
    controller.abort()

    await expect(first).rejects.toMatchObject({ name: 'AbortError' })
    expect(ch.trySend('job-1')).toBe(true) // to the receiver still waiting
    await expect(second).resolves.toEqual({ value: 'job-1', ok: true })
    expect(ch.trySend('job-2')).toBe(false) // nobody else is waiting
  })

  it('channels-abort-already: an already aborted signal rejects at once, with no effect', async () => {
    const reason = new Error('already')
    const signal = AbortSignal.abort(reason)

    const unbuffered = new Channel<string>()
    const receiver = track(unbuffered.recv())
    await expect(unbuffered.send('x', { signal })).rejects.toBe(reason)
    await flush()
    expect(receiver.state).toBe('pending') // nothing was delivered

    const buffered = new Channel<string>(1)
    buffered.trySend('kept')
    await expect(buffered.recv({ signal })).rejects.toBe(reason)
    expect(buffered.length).toBe(1) // nothing was taken
    await expect(buffered.send('y', { signal })).rejects.toBe(reason)
    expect(buffered.tryRecv()).toEqual({ value: 'kept', ok: true })
    expect(buffered.tryRecv()).toBeUndefined()

    unbuffered.close() // lets the tracked receiver finish
    await flush()
    expect(receiver.value).toEqual({ value: undefined, ok: false })
  })

  it('aborting after an operation settled changes nothing', async () => {
    const ch = new Channel<number>()
    const controller = new AbortController()
    const received = ch.recv({ signal: controller.signal })
    const sent = ch.send(1, { signal: controller.signal })
    controller.abort()
    await expect(received).resolves.toEqual({ value: 1, ok: true })
    await expect(sent).resolves.toBeUndefined()
  })

  it('channels-no-listener-leak: abort listeners are removed when operations settle', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const { signal } = new AbortController()
      const ch = new Channel<number>(1)
      for (let i = 0; i < 1_000; i++) {
        // one that waits, one that completes at once, on each side
        const receiving = ch.recv({ signal })
        await ch.send(i, { signal })
        await ch.send(i, { signal })
        const sending = ch.send(i, { signal })
        await receiving
        await ch.recv({ signal })
        await sending
        await ch.recv({ signal })
      }
      // closing settles waiting operations too
      const waiting = ch.recv({ signal })
      ch.close()
      await waiting
      expect(getEventListeners(signal, 'abort')).toHaveLength(0)
      await flush()
      expect(warnings.map((w) => w.name)).not.toContain(
        'MaxListenersExceededWarning',
      )
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('for await ... of', () => {
  it('channels-range-until-closed: yields every value until the channel is closed and drained', async () => {
    const ch = new Channel<number>(2)
    const producer = (async () => {
      for (const n of [1, 2, 3, 4]) await ch.send(n)
      ch.close()
    })()
    const seen: number[] = []
    for await (const n of ch) seen.push(n)
    await producer
    expect(seen).toEqual([1, 2, 3, 4])
  })

  it('channels-break-keeps-values: leaving the loop early does not close the channel and loses no value', async () => {
    const ch = new Channel<number>(4)
    for (const n of [1, 2, 3, 4]) ch.trySend(n)
    for await (const n of ch) {
      expect(n).toBe(1)
      break
    }
    expect(ch.closed).toBe(false)
    expect(ch.length).toBe(3)
    const rest: number[] = []
    ch.close()
    for await (const n of ch) rest.push(n)
    expect(rest).toEqual([2, 3, 4])
  })
})
