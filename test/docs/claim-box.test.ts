// A claim box's list of proofs: collapsed while every test passed, open by
// itself when one failed or did not run, grouped by test file.
import { describe, expect, it } from 'vitest'
import { proofList } from '../../.vitepress/plugins/claims.ts'
import { claimStatus, type TestResult } from '../../.vitepress/lib/results.ts'

const test = (file: string, line: number, title: string, status: TestResult['status'] = 'passed'): TestResult => ({
  file, line, title, fullName: title, status,
})

describe('the proof list of a claim box', () => {
  it('is a closed <details> while every test passed', () => {
    const tests = [test('test/a.test.ts', 3, 'x-y: one'), test('test/a.test.ts', 9, 'x-y: two')]
    const html = proofList(tests, claimStatus(tests))
    expect(html).toMatch(/^<details class="claim-proof"><summary>Proved by 2 tests, all passed<\/summary>/)
  })

  it('opens by itself when a test failed or did not run, and names that test\'s status', () => {
    for (const status of ['failed', 'skipped'] as const) {
      const tests = [test('test/a.test.ts', 3, 'x-y: one'), test('test/b.test.ts', 4, 'x-y: two', status)]
      const html = proofList(tests, claimStatus(tests))
      expect(html).toContain('<details class="claim-proof" open>')
      expect(html).toContain(`<span class="claim-test-status">${status}</span>`)
    }
  })

  it('groups the tests by file, and the cases of one it.each into one row', () => {
    const tests = [
      test('test/a.test.ts', 3, 'x-y: one'),
      test('test/b.test.ts', 7, 'x-y: case'),
      test('test/b.test.ts', 7, 'x-y: case'),
      test('test/a.test.ts', 5, 'x-y: two'),
    ]
    const html = proofList(tests, claimStatus(tests))
    expect(html).toContain('Proved by 4 tests in 2 files')
    const files = [...html.matchAll(/<li><code>([^<]+)<\/code><ul>(.*?)<\/ul><\/li>/g)]
    expect(files.map((m) => m[1])).toEqual(['test/a.test.ts', 'test/b.test.ts'])
    expect(files[0]![2]!.match(/<li>/g)).toHaveLength(2)
    expect(files[1]![2]).toContain('<span class="claim-test-cases">×2</span>')
  })

  it('says so when no test names the claim', () => {
    expect(proofList([], 'not run')).toBe('<div class="claim-proof">no test result for this claim</div>')
  })
})
