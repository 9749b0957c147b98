// Compares what an example printed with the output fence in its chapter.
// Placeholders, each standing for one whole token where output varies:
//   {uuid} {int} {num} {iso} (RFC 3339 time), and {any} (any run of
//   characters, possibly empty).

const placeholders: Record<string, string> = {
  '{uuid}': '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
  '{int}': '-?\\d+',
  '{num}': '-?\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?',
  '{iso}': '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:\\d{2})',
  '{any}': '.*',
}
const token = /\{uuid\}|\{int\}|\{num\}|\{iso\}|\{any\}/g

/**
 * How a fence compares: `unordered` lines form a multiset; with `varyMs`,
 * a duration written in the fence (one real run's `12 ms`) stands for any
 * duration, and a run of spaces for any run of spaces (padding). Every
 * other number must match exactly.
 */
export interface MatchOptions {
  unordered?: boolean
  varyMs?: boolean
}

export function linePattern(expected: string, varyMs = false): RegExp {
  const literal = (text: string): string => {
    const escaped = escape(text)
    if (!varyMs) return escaped
    return escaped
      .replace(/\d+(?:\\\.\d+)?(?= *ms\b)/g, placeholders['{num}']!)
      .replace(/ +/g, ' +')
  }
  let source = ''
  let last = 0
  for (const m of expected.matchAll(token)) {
    source += literal(expected.slice(last, m.index)) + placeholders[m[0]]
    last = m.index + m[0].length
  }
  source += literal(expected.slice(last))
  return new RegExp(`^${source}$`)
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Problems found, as readable lines; empty when the output matches. */
export function compareOutput(
  expected: string[],
  actual: string[],
  options: MatchOptions = {},
): string[] {
  const { unordered = false, varyMs = false } = options
  const want = trimEnd(expected.map((l) => l.trimEnd()))
  const got = trimEnd(actual.flatMap((l) => l.split('\n')).map((l) => l.trimEnd()))
  const problems: string[] = []
  if (!unordered) {
    const n = Math.max(want.length, got.length)
    for (let i = 0; i < n; i++) {
      const w = want[i]
      const g = got[i]
      if (w === undefined) problems.push(`line ${i + 1}: unexpected ${JSON.stringify(g)}`)
      else if (g === undefined) problems.push(`line ${i + 1}: missing ${JSON.stringify(w)}`)
      else if (!linePattern(w, varyMs).test(g)) {
        problems.push(`line ${i + 1}: expected ${JSON.stringify(w)}, got ${JSON.stringify(g)}`)
      }
    }
    return problems
  }
  const left = want.map((w) => ({ w, re: linePattern(w, varyMs), used: false }))
  for (const g of got) {
    const hit = left.find((x) => !x.used && x.re.test(g))
    if (hit) hit.used = true
    else problems.push(`unexpected line ${JSON.stringify(g)}`)
  }
  for (const x of left) if (!x.used) problems.push(`missing line ${JSON.stringify(x.w)}`)
  return problems
}

function trimEnd(lines: string[]): string[] {
  const out = [...lines]
  while (out.length > 0 && out[out.length - 1] === '') out.pop()
  return out
}
