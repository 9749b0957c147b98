import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { hashChain } from '../../../src/jobs/cpu/hash-chain.mjs'
import {
  CpuPoolClosedError,
  createCpuPool,
  defaultCpuPoolSize,
  type CpuPool,
  type CpuPoolOptions,
} from '../../../src/jobs/cpu/pool.ts'

// Enough rounds to run for seconds: these tests cancel it long before.
const FOREVER = 50_000_000

const pools: CpuPool[] = []
function newPool(options: CpuPoolOptions = { size: 1 }): CpuPool {
  const pool = createCpuPool(options)
  pools.push(pool)
  return pool
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()))
})

describe('hashChain', () => {
  it('one round is the SHA-256 of nothing; each round hashes the last', () => {
    const empty = createHash('sha256').digest()
    const twice = createHash('sha256').update(empty).digest('hex')
    expect(hashChain(1)).toBe(empty.toString('hex'))
    expect(hashChain(2)).toBe(twice)
  })
})

describe('createCpuPool', () => {
  it('cpu-same-digest: a thread computes the digest the event loop does', async () => {
    const pool = newPool()
    expect(await pool.hash(1_000)).toBe(hashChain(1_000))
  })

  it('starts no thread until there is work, and keeps at most size', async () => {
    const pool = newPool({ size: 2 })
    expect(pool.threads).toBe(0)
    await Promise.all([pool.hash(10), pool.hash(10), pool.hash(10)])
    expect(pool.threads).toBeGreaterThan(0)
    expect(pool.threads).toBeLessThanOrEqual(2)
  })

  it('works in a process run with node --import tsx, which exits once closed', async () => {
    const program = `
      const { createCpuPool } = await import('./src/jobs/cpu/pool.ts')
      const pool = createCpuPool({ size: 1 })
      console.log(await pool.hash(2))
      await pool.close()
    `
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '--eval',
      program,
    ])
    expect(stdout.trim()).toBe(hashChain(2))
  })

  it('defaults its size to the cores less one, at least one', () => {
    expect(newPool({}).size).toBe(defaultCpuPoolSize())
    expect(defaultCpuPoolSize()).toBeGreaterThanOrEqual(1)
  })

  it('refuses a size that is not a positive integer', () => {
    expect(() => createCpuPool({ size: 0 })).toThrow(TypeError)
    expect(() => createCpuPool({ size: 1.5 })).toThrow(
      'Expected `size` to be an integer from 1 and up, got `1.5`',
    )
  })

  it('refuses rounds that are not a non-negative integer', async () => {
    const pool = newPool()
    await expect(pool.hash(-1)).rejects.toThrow(TypeError)
    await expect(pool.hash(2.5)).rejects.toThrow(
      'Expected `rounds` to be an integer from 0 and up, got `2.5`',
    )
    expect(pool.threads).toBe(0)
  })
})

describe('cancelling a hash', () => {
  it('cpu-cancel-stops-thread: rejects with the reason once its thread has exited', async () => {
    const pool = newPool()
    await pool.hash(1) // a ready thread: the next hash runs on it at once
    expect(pool.threads).toBe(1)
    const controller = new AbortController()
    const running = pool.hash(FOREVER, { signal: controller.signal })
    const reason = new Error('canceled by the test')
    controller.abort(reason)
    await expect(running).rejects.toBe(reason)
    expect(pool.threads).toBe(0)
  })

  it('cpu-cancel-stops-thread: the pool starts a new thread for the next hash', async () => {
    const pool = newPool()
    const controller = new AbortController()
    const running = pool.hash(FOREVER, { signal: controller.signal })
    controller.abort()
    await expect(running).rejects.toBe(controller.signal.reason)
    expect(await pool.hash(3)).toBe(hashChain(3))
  })

  it('rejects at once, starting no thread, when the signal has aborted', async () => {
    const pool = newPool()
    const reason = new Error('too late')
    await expect(
      pool.hash(10, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason)
    expect(pool.threads).toBe(0)
  })

  it('cancelling a queued hash leaves the running one alone', async () => {
    const pool = newPool({ size: 1 })
    await pool.hash(1)
    const first = pool.hash(20_000)
    const controller = new AbortController()
    const queued = pool.hash(FOREVER, { signal: controller.signal })
    controller.abort()
    await expect(queued).rejects.toBe(controller.signal.reason)
    expect(await first).toBe(hashChain(20_000))
  })
})

describe('close', () => {
  it('cpu-close-ends-threads: ends running work with CpuPoolClosedError, no thread left', async () => {
    const pool = newPool()
    await pool.hash(1)
    const running = expect(pool.hash(FOREVER)).rejects.toBeInstanceOf(
      CpuPoolClosedError,
    )
    await pool.close()
    await running
    expect(pool.threads).toBe(0)
  })

  it('refuses new work, and a second close is harmless', async () => {
    const pool = newPool()
    await Promise.all([pool.close(), pool.close()])
    await expect(pool.hash(1)).rejects.toThrow('the CPU pool is closed')
    await pool.close()
    expect(pool.threads).toBe(0)
  })
})
