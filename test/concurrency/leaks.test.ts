import { fork } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { createServer as createHttpServer } from 'node:http'
import { once } from 'node:events'
import { mkdtempSync, rmSync, unwatchFile, watch, watchFile } from 'node:fs'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it, vi } from 'vitest'
import {
  expectNoLeaks,
  findLeaks,
  forgetLeaks,
  formatLeaks,
  LeakError,
  type Leak,
} from '../../src/concurrency/leaks.ts'
import { spawn, stackLocations } from '../../src/concurrency/task.ts'
import { main as reportExample } from '../../src/examples/leaks-report.ts'
import { deferred } from '../support/promises.ts'

const noop = () => {}
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))
// file:line of the caller, to compare with a leak's site.
const here = () => stackLocations(new Error().stack)[1]!.replace(/:\d+$/, '')
const atLine = (leak: Leak) => leak.site.replace(/:\d+$/, '')

describe('findLeaks', () => {
  it('leaks-interval-named: names a live interval with the file and line that started it', () => {
    const timer = setInterval(noop, 1000), line = here()
    const leaks = findLeaks()
    clearInterval(timer)
    expect(leaks).toHaveLength(1)
    expect(leaks[0]?.kind).toBe('interval')
    expect(line).toMatch(/^test\/concurrency\/leaks\.test\.ts:\d+$/)
    expect(atLine(leaks[0]!)).toBe(line)
  })

  it('leaks-cleared-is-clean: a cleared timer and a fired timer are not leaks', async () => {
    const cleared = setTimeout(noop, 1000)
    clearTimeout(cleared)
    const interval = setInterval(noop, 1000)
    clearInterval(interval)
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(findLeaks()).toEqual([])
  })

  it('leaks-unref-interval: an unref’ed interval that is still running is a leak', () => {
    const timer = setInterval(noop, 1000).unref()
    const kinds = findLeaks().map((leak) => leak.kind)
    clearInterval(timer)
    expect(kinds).toEqual(['interval'])
    expect(findLeaks()).toEqual([])
  })

  it('leaks-task-named: names a pending task, how long it has waited and where it started', async () => {
    let release = noop
    const task = spawn('worker-1', () => new Promise<void>((r) => (release = r))), line = here()
    const [leak] = findLeaks()
    release()
    await task
    expect(leak).toMatchObject({ kind: 'task', name: 'worker-1' })
    expect(leak?.detail).toMatch(/^pending \d+ ms$/)
    expect(atLine(leak!)).toBe(line)
    expect(findLeaks()).toEqual([])
  })

  it('leaks-unawaited-failure: a failed task that nobody awaited is a leak until awaited', async () => {
    const task = spawn('careless', async () => {
      throw new Error('lost?')
    })
    await nextTurn()
    expect(findLeaks()).toMatchObject([
      { kind: 'task', name: 'careless', detail: 'failed, never awaited' },
    ])
    await expect(task).rejects.toThrow('lost?')
    expect(findLeaks()).toEqual([])
  })

  it('leaks-task-holds-no-handle: a task that never settles is invisible to getActiveResourcesInfo, not to findLeaks', async () => {
    const before = process.getActiveResourcesInfo()
    const controller = new AbortController()
    const stuck = spawn('stuck', (signal) => {
      return new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => resolve())
      })
    }, { signal: controller.signal })
    await nextTurn()
    expect(process.getActiveResourcesInfo()).toEqual(before)
    expect(findLeaks().map((leak) => leak.name)).toEqual(['stuck'])
    controller.abort()
    await stuck
  })

  it('leaks-kinds: reports servers, sockets, child processes and worker threads', async () => {
    const server = createServer((socket) => socket.pipe(socket))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    const client = connect(port, '127.0.0.1')
    await once(client, 'connect')
    const child = fork('-e', ['setInterval(() => {}, 1000)'], {
      execArgv: [],
      stdio: 'ignore',
    })
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true })
    await once(worker, 'online')

    const kinds = findLeaks().map((leak) => leak.kind)

    client.destroy()
    await new Promise((resolve) => server.close(resolve))
    child.kill()
    await once(child, 'exit')
    await worker.terminate()
    expect(kinds).toEqual(
      expect.arrayContaining([
        'server',
        'socket',
        'child process',
        'worker thread',
      ]),
    )
    await expectNoLeaks()
    expect(findLeaks()).toEqual([])
  })

  it('leaks-accepted-socket: a socket a server accepted is attributed to the server', async () => {
    const server = createServer().listen(0), line = here()
    await once(server, 'listening')
    const client = connect((server.address() as AddressInfo).port)
    const [accepted] = (await once(server, 'connection')) as [Socket]
    const byServer = findLeaks().filter((leak) => leak.site.includes('(by'))
    accepted.destroy()
    client.destroy()
    await new Promise((resolve) => server.close(resolve))
    expect(byServer).toHaveLength(1)
    expect(byServer[0]?.kind).toBe('socket')
    expect(byServer[0]?.site).toMatch(/ \(by the server\)$/)
    expect(byServer[0]?.detail).toMatch(/^to .+:\d+$/)
    expect(byServer[0]?.site.startsWith(`${line}:`)).toBe(true)
    await expectNoLeaks()
  })

  it('names a server that Node opened in a callback by its address', async () => {
    const server = createServer().listen(0, '127.0.0.1')
    await once(server, 'listening')
    const leaks = findLeaks()
    await new Promise((resolve) => server.close(resolve))
    expect(leaks).toMatchObject([
      { kind: 'server', detail: expect.stringMatching(/^on 127\.0\.0\.1:\d+$/) },
    ])
  })

  it('does not report the timer of AbortSignal.timeout, which nobody can clear', () => {
    const signal = AbortSignal.timeout(60_000)
    expect(signal.aborted).toBe(false)
    expect(findLeaks()).toEqual([])
  })

  it('does not report fake timers: they hold no real handle', () => {
    vi.useFakeTimers()
    try {
      setInterval(noop, 10)
      expect(vi.getTimerCount()).toBe(1)
      expect(findLeaks()).toEqual([])
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('expectNoLeaks', () => {
  it('leaks-clean-check-no-wait: returns without waiting a turn of the event loop when nothing leaked', async () => {
    let turned = false
    const immediate = setImmediate(() => {
      turned = true
    })
    await expectNoLeaks()
    clearImmediate(immediate)
    expect(turned).toBe(false)
  })

  it('leaks-retries: waits for a server that is closing to finish closing', async () => {
    const server = createServer(noop).listen(0, '127.0.0.1')
    await once(server, 'listening')
    server.close()
    expect(findLeaks().map((leak) => leak.kind)).toEqual(['server'])
    await expect(expectNoLeaks()).resolves.toBeUndefined()
  })

  it('leaks-report: throws a LeakError whose message names each leak and where it started', async () => {
    let release = noop
    const task = spawn('worker-1', () => new Promise<void>((r) => (release = r)))
    const timer = setInterval(noop, 1000)
    const error = await expectNoLeaks({ timeoutMs: 20 }).catch((e) => e)
    clearInterval(timer)
    release()
    await task
    expect(error).toBeInstanceOf(LeakError)
    expect(error.name).toBe('LeakError')
    expect(error.leaks).toHaveLength(2)
    expect(error.message).toMatch(
      /^2 leaks: task "worker-1" \(pending \d+ ms\) created at test\/concurrency\/leaks\.test\.ts:\d+:\d+; interval created at test\/concurrency\/leaks\.test\.ts:\d+:\d+$/,
    )
  })

  it('leaks-reported-once: forgets what it reported, so a leak fails one check, not every later one', async () => {
    const timer = setInterval(noop, 1000)
    await expect(expectNoLeaks({ timeoutMs: 10 })).rejects.toThrow(LeakError)
    await expect(expectNoLeaks({ timeoutMs: 10 })).resolves.toBeUndefined()
    clearInterval(timer)
  })

  it('leaks-fake-timers: still waits on real time while a test has fake timers on', async () => {
    vi.useFakeTimers()
    try {
      const server = createServer(noop).listen(0, '127.0.0.1')
      await once(server, 'listening')
      server.close()
      await expect(expectNoLeaks()).resolves.toBeUndefined()
    } finally {
      vi.useRealTimers()
    }
  })

  it('leaves no timer of its own behind after a failed check', async () => {
    const timer = setInterval(noop, 1000)
    await expectNoLeaks({ timeoutMs: 30 }).catch(noop)
    clearInterval(timer)
    expect(findLeaks()).toEqual([])
  })
})

describe('formatLeaks', () => {
  it('writes one leak as “1 leak”, with its kind, name, detail and site', () => {
    const leak = { kind: 'task', name: 'w', detail: 'pending 3 ms', site: 'a.ts:1:2' }
    expect(formatLeaks([leak])).toBe('1 leak: task "w" (pending 3 ms) created at a.ts:1:2')
  })
})

describe('the report (src/examples/leaks-report.ts)', () => {
  it('leaks-report-example: names the pending task and the interval, each with its line, and leaves nothing behind', async () => {
    const lines: string[] = []
    await reportExample((line) => lines.push(line))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^2 leaks: task "worker-1" \(pending \d+ ms\) created at src\/examples\/leaks-report\.ts:\d+:\d+; interval created at src\/examples\/leaks-report\.ts:\d+:\d+$/,
    )
    await expectNoLeaks()
  })
})

describe("Node's own timers", () => {
  it('the HTTP Date-header cache and fetch’s shared clock are not reported', async () => {
    const server = createHttpServer((_req, res) => res.end('ok'))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}/`)
    expect(await res.text()).toBe('ok')
    server.closeAllConnections()
    server.close()
    await once(server, 'close')
    // Both timers are still pending now; neither is anyone's to clear.
    expect(findLeaks().filter((leak) => leak.kind === 'timeout')).toEqual([])
  })
})

describe('tracking on and off', () => {
  // A fresh copy of the module, whose tracking this test owns (the test
  // setup's copy stays on, for the leak check after each test).
  async function freshLeaks() {
    vi.resetModules()
    return await import('../../src/concurrency/leaks.ts')
  }

  it('without trackLeaks() reports tasks only; stopping it stops the recording, and only its own stop does', async () => {
    const fresh = await freshLeaks()
    const timers = [setInterval(noop, 1000)]
    expect(fresh.findLeaks()).toEqual([])
    const stop = fresh.trackLeaks()
    const again = fresh.trackLeaks()
    again() // tracking was on already: this one's stop does nothing
    timers.push(setInterval(noop, 1000))
    expect(fresh.findLeaks().map((leak) => leak.kind)).toEqual(['interval'])
    stop()
    timers.push(setInterval(noop, 1000))
    expect(fresh.findLeaks()).toEqual([])
    // A new tracking records from its own start; the old stop leaves it on.
    const stopNew = fresh.trackLeaks()
    timers.push(setTimeout(noop, 1000))
    stop()
    expect(fresh.findLeaks().map((leak) => leak.kind)).toEqual(['timeout'])
    stopNew()
    for (const timer of timers) clearTimeout(timer)
  })
})

describe('what each leak is called', () => {
  it('names each kind it tracks: timeout, interval, udp socket, pipe, server, file watcher', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leaks-'))
    const timeout = setTimeout(noop, 1000)
    const interval = setInterval(noop, 1000)
    const udp = createSocket('udp4')
    udp.bind(0, '127.0.0.1')
    await once(udp, 'listening')
    const path = join(dir, 'pipe.sock')
    const pipeServer = createServer(noop).listen(path)
    await once(pipeServer, 'listening')
    const pipe = connect(path)
    await once(pipe, 'connect')
    const watcher = watch(dir)
    watchFile(join(dir, 'file'), noop)

    const kinds = findLeaks().map((leak) => leak.kind)

    clearTimeout(timeout)
    clearInterval(interval)
    udp.close()
    pipe.destroy()
    await new Promise((resolve) => pipeServer.close(resolve))
    watcher.close()
    unwatchFile(join(dir, 'file'))
    rmSync(dir, { recursive: true, force: true })
    expect(kinds).toEqual(
      expect.arrayContaining(['timeout', 'interval', 'udp socket', 'server', 'pipe', 'file watcher']),
    )
    expect(kinds.filter((kind) => kind === 'file watcher')).toHaveLength(2)
    expect(kinds.filter((kind) => kind === 'timeout')).toHaveLength(1)
    await expectNoLeaks()
  })

  it('sites a server that listens on a host name where listen() was called, though Node opens it after a lookup', async () => {
    const server = createServer(noop).listen(0, 'localhost'), line = here()
    await once(server, 'listening')
    const leaks = findLeaks()
    await new Promise((resolve) => server.close(resolve))
    expect(leaks.map((leak) => [leak.kind, atLine(leak)])).toEqual([['server', line]])
  })

  it('says how long a pending task has waited, by the clock', async () => {
    const gate = deferred()
    const start = performance.now()
    const task = spawn('waits', () => gate.promise)
    while (performance.now() - start < 3) {} // let the clock move
    const leak = findLeaks().find((found) => found.name === 'waits')
    const elapsed = performance.now() - start
    gate.resolve()
    await task
    const ms = Number(/^pending (\d+) ms$/.exec(leak?.detail ?? '')?.[1])
    expect(ms).toBeGreaterThanOrEqual(2)
    expect(ms).toBeLessThanOrEqual(Math.ceil(elapsed))
  })

  it('forgetLeaks ignores a leak it did not report', () => {
    expect(() => forgetLeaks([{ kind: 'task', site: 'a.ts:1:2' }])).not.toThrow()
  })
})
