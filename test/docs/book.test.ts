// The checks that keep the book honest, checked themselves: each must fail
// on the mistake it exists to catch.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  checkSnippet,
  describeSnippetProblem,
  parseSnippet,
  readRegion,
  scanClaims,
  scanFences,
  type Chapter,
} from '../../.vitepress/lib/book.ts'
import { claimStatus, parseResults, type JsonReport } from '../../.vitepress/lib/results.ts'
import { checkClaims } from './check-claims.ts'
import { compareOutput } from './output-match.ts'

const dir = mkdtempSync(path.join(tmpdir(), 'book-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const source = path.join(dir, 'source.ts')
writeFileSync(
  source,
  [
    'const a = 1',
    '// #region shown',
    '  const b = a + 1',
    '  // #region inner',
    '  const c = b',
    '  // #endregion inner',
    '// #endregion shown',
    '// #region empty',
    '',
    '// #endregion empty',
  ].join('\n'),
)
const page = path.join(dir, 'page.md')

describe('snippet references', () => {
  it('a region is shown dedented, without nested region markers', () => {
    const region = readRegion(source, 'shown')
    expect(region.body).toEqual(['const b = a + 1', 'const c = b'])
    expect(region.before).toEqual(['const a = 1'])
    // The label above the block names the file's line 3: `const b = a + 1`.
    expect(region.line).toBe(3)
  })

  it('a missing region is reported with chapter, line, file and region', () => {
    const ref = parseSnippet(`<<< ${source}#renamed{ts twoslash}`, 12, page)!
    const problem = checkSnippet(ref)
    expect(problem).toBe('region "renamed" not found')
    expect(describeSnippetProblem('guide/x.md', ref, problem!)).toMatch(
      /^docs\/guide\/x\.md:12: <<< .*source\.ts#renamed \(file .*source\.ts, region "renamed"\): region "renamed" not found$/,
    )
  })

  it('an empty region and a missing file are problems too', () => {
    expect(checkSnippet(parseSnippet(`<<< ${source}#empty{ts}`, 1, page)!))
      .toBe('region "empty" is empty')
    expect(checkSnippet(parseSnippet(`<<< ${dir}/nope.ts#x{ts}`, 1, page)!))
      .toBe('file not found')
  })

  it('@/ paths resolve from docs/ and the twoslash flag is read', () => {
    const ref = parseSnippet('<<< @/../src/a.ts#r{ts twoslash}', 3, page)!
    expect(ref.file.endsWith(path.join('src', 'a.ts'))).toBe(true)
    expect([ref.region, ref.lang, ref.twoslash]).toEqual(['r', 'ts', true])
  })
})

describe('claims in the prose', () => {
  it('are read outside code fences only', () => {
    const text = ['::: claim real-claim', 'It holds.', ':::', '```md', '::: claim shown-as-code', '```'].join('\n')
    expect(scanClaims(text)).toEqual([{ id: 'real-claim', line: 1, text: 'It holds.' }])
    expect(scanFences(text)).toHaveLength(1)
  })
})

const report = (tests: Array<[string, JsonReport['testResults'][0]['assertionResults'][0]['status']]>): JsonReport => ({
  startTime: 0,
  testResults: [{
    name: path.join(dir, 'x.test.ts'),
    assertionResults: tests.map(([title, status], i) => ({
      title, fullName: title, status, location: { line: i + 1, column: 1 },
    })),
  }],
})
const chapter = (text: string): Chapter => ({ page: 'guide/x.md', file: page, text })
const oneClaim = chapter('::: claim some-claim\nIt holds.\n:::\n')

describe('intro-claims-are-tested: the claims check', () => {
  it('intro-claims-are-tested: passes a claim whose tests all passed', () => {
    const { problems, verified } = checkClaims([oneClaim], parseResults(report([['some-claim: holds', 'passed']])))
    expect(problems).toEqual([])
    expect(verified).toBe(1)
  })

  it('intro-claims-are-tested: fails a claim with no test', () => {
    const { problems } = checkClaims([oneClaim], parseResults(report([['other thing', 'passed']])))
    expect(problems).toEqual(['docs/guide/x.md:1: claim some-claim has no test titled "some-claim: ..."'])
  })

  it('intro-claims-are-tested: fails a claim whose test was skipped, todo or failed', () => {
    for (const status of ['skipped', 'todo', 'failed'] as const) {
      const { problems } = checkClaims([oneClaim], parseResults(report([['some-claim: holds', status]])))
      expect(problems).toHaveLength(1)
      expect(problems[0]).toContain(`is ${status}`)
    }
  })

  it('intro-claims-are-tested: fails a test that names a claim no chapter makes', () => {
    const { problems } = checkClaims([oneClaim], parseResults(report([
      ['some-claim: holds', 'passed'], ['ghost-claim: deleted from the prose', 'passed'],
    ])))
    expect(problems).toEqual([expect.stringContaining('names claim ghost-claim, which no chapter makes')])
  })

  it('intro-claims-are-tested: fails without test results rather than passing', () => {
    expect(checkClaims([oneClaim], undefined).problems).toHaveLength(1)
  })

  it('a claim is "verified" only when a test ran and all passed', () => {
    const t = (status: 'passed' | 'failed' | 'skipped') =>
      ({ file: 'x', line: 1, title: 'a-b: c', fullName: 'a-b: c', status })
    expect(claimStatus(undefined)).toBe('not run')
    expect(claimStatus([t('passed')])).toBe('verified')
    expect(claimStatus([t('passed'), t('skipped')])).toBe('not run')
    expect(claimStatus([t('passed'), t('failed')])).toBe('failing')
  })
})

describe('output fences', () => {
  it('match line by line, with placeholders for what varies', () => {
    expect(compareOutput(
      ['job {uuid} at {iso}', 'took {int} ms', 'rest: {any}'],
      ['job 3f1c2a9e-1b2c-4d5e-8f90-123456789abc at 2026-11-28T18:00:00.123Z', 'took 12 ms', 'rest: whatever'],
    )).toEqual([])
  })

  it('report a changed, missing or extra line', () => {
    expect(compareOutput(['Start', 'End'], ['Start', 'Ending']))
      .toEqual(['line 2: expected "End", got "Ending"'])
    expect(compareOutput(['Start', 'End'], ['Start'])).toEqual(['line 2: missing "End"'])
    expect(compareOutput(['Start'], ['Start', 'x'])).toEqual(['line 2: unexpected "x"'])
  })

  it('with vary=ms, the durations of one real run stand for any duration, and nothing else varies', () => {
    const fence = ['+2 ms     refuse_new_work', 'took 0.5 ms, exit code 0']
    const opts = { varyMs: true }
    expect(compareOutput(fence, ['+460 ms   refuse_new_work', 'took 12.25 ms, exit code 0'], opts))
      .toEqual([])
    expect(compareOutput(fence, ['+460 ms   stop_http', 'took 1 ms, exit code 1'], opts)).toEqual([
      'line 1: expected "+2 ms     refuse_new_work", got "+460 ms   stop_http"',
      'line 2: expected "took 0.5 ms, exit code 0", got "took 1 ms, exit code 1"',
    ])
    expect(compareOutput(['took 2 ms'], ['took 3 ms'])).toEqual(['line 1: expected "took 2 ms", got "took 3 ms"'])
  })

  it('unordered fences compare lines as a multiset', () => {
    expect(compareOutput(['a', 'b', 'b'], ['b', 'a', 'b'], { unordered: true })).toEqual([])
    expect(compareOutput(['a', 'b'], ['a', 'a'], { unordered: true }))
      .toEqual(['unexpected line "a"', 'missing line "b"'])
  })
})
