import { getEventListeners } from 'node:events'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { Channel, ChannelClosedError } from '../../src/concurrency/channel.ts'
import { recv, select, send, trySelect } from '../../src/concurrency/select.ts'
import { nextTurn, track } from '../support/promises.ts'

const flush = nextTurn

describe('select()', () => {
  it('select-ready-case: performs the case that is ready and leaves the others alone', async () => {
    const jobs = new Channel<string>(1)
    const results = new Channel<number>() // unbuffered, nobody receiving
    jobs.trySend('job-1')

    const selected = await select([recv(jobs), send(results, 42)])

    expect(selected).toEqual({ index: 0, value: 'job-1', ok: true })
    expect(results.trySend(0)).toBe(false) // 42 was not left waiting there
    const late = track(results.recv())
    await flush()
    expect(late.state).toBe('pending') // and is not delivered later either
    results.close()
  })

  it('select-exactly-one: a waiting select performs the first case that can proceed and withdraws the others', async () => {
    const a = new Channel<string>()
    const b = new Channel<string>()
    const out = new Channel<string>()
    const selecting = select([recv(a), recv(b), send(out, 'reply')])

    expect(a.trySend('to a')).toBe(true)
    await expect(selecting).resolves.toEqual({
      index: 0,
      value: 'to a',
      ok: true,
    })
    expect(b.trySend('to b')).toBe(false) // its receive was withdrawn
    expect(out.tryRecv()).toBeUndefined() // its send was withdrawn
  })

  it('select-exactly-one: a send case that happens withdraws the receive cases', async () => {
    const input = new Channel<number>()
    const out = new Channel<string>()
    const selecting = select([recv(input), send(out, 'reply')])

    await expect(out.recv()).resolves.toEqual({ value: 'reply', ok: true })
    await expect(selecting).resolves.toEqual({
      index: 1,
      value: undefined,
      ok: true,
    })
    expect(input.trySend(1)).toBe(false)
  })

  it('select-exactly-one: two cases on one channel take one value, not two', async () => {
    const ch = new Channel<number>()
    const selecting = select([recv(ch), recv(ch)])
    expect(ch.trySend(1)).toBe(true)
    expect(ch.trySend(2)).toBe(false)
    const { value, ok } = await selecting
    expect({ value, ok }).toEqual({ value: 1, ok: true })
  })

  it('select-recv-closed-ready: a receive case on a closed channel is ready, with ok: false', async () => {
    const done = new Channel<void>()
    const jobs = new Channel<string>()
    done.close()
    await expect(select([recv(jobs), recv(done)])).resolves.toEqual({
      index: 1,
      value: undefined,
      ok: false,
    })

    const waiting = select([recv(jobs)])
    jobs.close()
    await expect(waiting).resolves.toEqual({
      index: 0,
      value: undefined,
      ok: false,
    })
  })

  it('select-send-closed-rejects: a send case on a closed channel rejects with ChannelClosedError, and nothing happens', async () => {
    const closed = new Channel<number>(1)
    closed.close()
    const ready = new Channel<number>(1)
    ready.trySend(1)

    await expect(
      select([recv(ready), send(closed, 2)]),
    ).rejects.toBeInstanceOf(ChannelClosedError)
    expect(ready.length).toBe(1) // the ready receive did not happen
    expect(() => trySelect([recv(ready), send(closed, 2)])).toThrow(
      ChannelClosedError,
    )
    expect(() => trySelect([send(closed, 2)])).toThrow('send on closed channel')
    expect(ready.length).toBe(1)
  })

  it('select-send-closed-rejects: a waiting send case whose channel closes rejects the select and withdraws the rest', async () => {
    const out = new Channel<number>()
    const input = new Channel<number>()
    const selecting = select([send(out, 1), recv(input)])
    out.close()
    await expect(selecting).rejects.toThrow(
      new ChannelClosedError('send on closed channel'),
    )
    expect(input.trySend(5)).toBe(false)
  })
})

describe('select() with a signal', () => {
  it('select-abort: when the signal aborts, select rejects with its reason and no case happens', async () => {
    const input = new Channel<string>()
    const out = new Channel<string>()
    const controller = new AbortController()
    const selecting = select([recv(input), send(out, 'reply')], {
      signal: controller.signal,
    })
    const reason = new Error('shutting down')
    controller.abort(reason)

    await expect(selecting).rejects.toBe(reason)
    expect(input.trySend('job')).toBe(false)
    expect(out.tryRecv()).toBeUndefined()
  })

  it('select-abort: an already aborted signal rejects at once, even with a case ready', async () => {
    const ready = new Channel<string>(1)
    ready.trySend('job')
    const signal = AbortSignal.abort()
    await expect(select([recv(ready)], { signal })).rejects.toMatchObject({
      name: 'AbortError',
    })
    expect(ready.length).toBe(1)
  })

  it('select-timeout: a select with AbortSignal.timeout rejects with a TimeoutError and takes nothing', async () => {
    const results = new Channel<string>()
    const signal = AbortSignal.timeout(5)
    await expect(select([recv(results)], { signal })).rejects.toMatchObject({
      name: 'TimeoutError',
    })
    expect(results.trySend('late result')).toBe(false)
  })

  it("with no cases, select waits for the signal (Go's select {})", async () => {
    const controller = new AbortController()
    const waiting = track(select([], { signal: controller.signal }))
    await flush()
    expect(waiting.state).toBe('pending')
    controller.abort()
    await flush()
    expect(waiting.state).toBe('rejected')
  })

  it('select-no-listener-leak: select removes its abort listener when it settles', async () => {
    const { signal } = new AbortController()
    const a = new Channel<number>()
    const b = new Channel<number>(1)
    for (let i = 0; i < 1_000; i++) {
      const selecting = select([recv(a), recv(b)], { signal })
      a.trySend(i)
      await selecting
      b.trySend(i)
      await select([recv(a), recv(b)], { signal })
    }
    b.trySend(-1) // full: the send cases below wait
    const waiting = select([recv(a), send(b, 0), send(b, 1)], { signal })
    b.close()
    await expect(waiting).rejects.toBeInstanceOf(ChannelClosedError)
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
  })
})

describe('trySelect()', () => {
  it('select-try-default: returns undefined when no case is ready, and does nothing', () => {
    const input = new Channel<string>()
    const out = new Channel<string>()
    expect(trySelect([recv(input), send(out, 'x')])).toBeUndefined()
    expect(out.tryRecv()).toBeUndefined()
    expect(trySelect([])).toBeUndefined()
  })

  it('select-try-default: performs a ready case at once', () => {
    const out = new Channel<string>(1)
    expect(trySelect([recv(new Channel<number>()), send(out, 'x')])).toEqual({
      index: 1,
      value: undefined,
      ok: true,
    })
    expect(out.tryRecv()).toEqual({ value: 'x', ok: true })
  })
})

describe('fairness', () => {
  // Each select picks case 0 with probability 1/2 if the choice is uniform.
  // Out of n = 10,000 selects, a count outside [4,000, 6,000] is a deviation
  // of 0.1·n; by Hoeffding's inequality that happens with probability at
  // most 2·exp(−2·n·0.1²) = 2·exp(−200) ≈ 3e−87 per run: it cannot flake.
  it('select-fair: when two cases are always ready, each is chosen 40% to 60% of 10,000 times', async () => {
    const a = new Channel<string>(1)
    const b = new Channel<string>(1)
    const chosen = [0, 0]
    for (let i = 0; i < 10_000; i++) {
      a.trySend('a')
      b.trySend('b')
      const { index } = await select([recv(a), recv(b)])
      chosen[index] = (chosen[index] ?? 0) + 1
      // Empty whichever channel was not chosen, so both start full again.
      ;(index === 0 ? b : a).tryRecv()
    }
    for (const count of chosen) {
      expect(count).toBeGreaterThanOrEqual(4_000)
      expect(count).toBeLessThanOrEqual(6_000)
    }
  })

  // Two of the four cases are ready, each expected 1/2 of n = 30,000: a
  // share off by 0.05 or more has probability at most 2·exp(−2·n·0.05²) =
  // 2·exp(−150) ≈ 1e−65 per run.
  it('select-fair: only ready cases are chosen, uniformly among them', () => {
    const closed = new Channel<number>()
    closed.close()
    const buffered = new Channel<number>(1)
    const empty = new Channel<number>()
    const chosen = [0, 0, 0, 0]
    const n = 30_000
    for (let i = 0; i < n; i++) {
      buffered.trySend(i)
      const picked = trySelect([
        recv(closed),
        recv(empty),
        recv(buffered),
        send(buffered, -1),
      ])
      if (!picked) throw new Error('a case was ready')
      chosen[picked.index] = (chosen[picked.index] ?? 0) + 1
      buffered.tryRecv() // emptied, whatever was chosen
    }
    // buffered is full when selecting, so its send case is never ready
    expect(chosen[1]).toBe(0)
    expect(chosen[3]).toBe(0)
    expect(chosen[0]! / n).toBeGreaterThan(0.45)
    expect(chosen[0]! / n).toBeLessThan(0.55)
  })
})

describe('types', () => {
  it('the result is a union discriminated by index, whose value is the case channel type', async () => {
    const names = new Channel<string>(1)
    const counts = new Channel<number>() // nobody receives: not ready
    names.trySend('x')
    const selected = await select([recv(names), send(counts, 1)])
    if (selected.index === 0 && selected.ok) {
      expectTypeOf(selected.value).toEqualTypeOf<string>()
    }
    if (selected.index === 1) {
      expectTypeOf(selected.value).toEqualTypeOf<undefined>()
    }
    expectTypeOf(selected.index).toEqualTypeOf<0 | 1>()
    expect(selected.index).toBe(0)
  })
})
