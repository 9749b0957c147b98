// Runs after `vitest run` in `npm test`: every claim in the book must be
// proved by at least one test that ran and passed, and every test that names
// a claim must name one the book makes. Reads vitest's JSON report.
import {
  claimIdPattern,
  listChapters,
  scanClaims,
  type Chapter,
  type ClaimRef,
} from '../../.vitepress/lib/book.ts'
import {
  loadResults,
  resultsFile,
  type Results,
} from '../../.vitepress/lib/results.ts'

export function checkClaims(
  chapters: Chapter[],
  results: Results | undefined,
): { problems: string[]; verified: number } {
  if (!results) {
    return {
      problems: [`no test results at ${resultsFile}: run vitest first`],
      verified: 0,
    }
  }
  const problems: string[] = []
  const claims = new Map<string, Array<ClaimRef & { page: string }>>()
  for (const chapter of chapters) {
    for (const claim of scanClaims(chapter.text)) {
      const where = `docs/${chapter.page}:${claim.line}`
      if (!claimIdPattern.test(claim.id)) {
        problems.push(`${where}: claim id "${claim.id}" is not kebab-case`)
      }
      if (claim.text === '') {
        problems.push(`${where}: claim ${claim.id} says nothing`)
      }
      const list = claims.get(claim.id) ?? []
      list.push({ ...claim, page: chapter.page })
      claims.set(claim.id, list)
    }
  }

  let verified = 0
  for (const [id, places] of claims) {
    const where = places.map((p) => `docs/${p.page}:${p.line}`).join(', ')
    if (places.length > 1) {
      problems.push(`${where}: claim ${id} is made more than once`)
    }
    const tests = results.byClaim.get(id) ?? []
    if (tests.length === 0) {
      problems.push(`${where}: claim ${id} has no test titled "${id}: ..."`)
      continue
    }
    const notPassed = tests.filter((t) => t.status !== 'passed')
    for (const t of notPassed) {
      problems.push(
        `${where}: claim ${id}: test ${t.file}:${t.line ?? '?'} ` +
          `"${t.title}" is ${t.status}`,
      )
    }
    if (notPassed.length === 0) verified++
  }

  for (const [id, tests] of results.byClaim) {
    if (claims.has(id)) continue
    for (const t of tests) {
      problems.push(
        `${t.file}:${t.line ?? '?'}: test "${t.title}" names claim ${id}, ` +
          `which no chapter makes`,
      )
    }
  }
  return { problems, verified }
}

const isMain = process.argv[1]?.endsWith('check-claims.ts') ?? false
if (isMain) {
  const { problems, verified } = checkClaims(listChapters(), loadResults())
  if (problems.length > 0) {
    console.error(`Claims check failed (${problems.length} problems):`)
    for (const p of problems) console.error(`  ${p}`)
    process.exit(1)
  }
  console.log(`Claims check: ${verified} of ${verified} claims verified.`)
}
