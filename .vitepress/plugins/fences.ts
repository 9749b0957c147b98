// Labels the two kinds of fence a reader must not mistake for tested code
// imported from src/:
// - ```text output=<name> [unordered]: what src/examples/<name>.ts printed,
//   compared line by line with a real run by test/docs/outputs.test.ts;
// - ```ts illustration: TypeScript written into the page, never compiled.
import type { MarkdownRenderer as MarkdownIt } from 'vitepress'

export function fencesPlugin(md: MarkdownIt): void {
  const render = md.renderer.rules.fence!
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const token = tokens[idx]!
    const words = token.info.trim().split(/\s+/)
    const output = words.find((w) => w.startsWith('output='))?.slice(7)
    if (output !== undefined) {
      token.info = words[0] ?? 'text'
      const order = words.includes('unordered') ? ' (lines in any order)' : ''
      const vary = words.includes('vary=ms')
        ? ' (one run; its durations vary from run to run)'
        : ''
      return (
        `<div class="book-fence book-output"><div class="book-fence-label">` +
        `Output of <code>src/examples/${output}.ts</code>${order}${vary}, ` +
        `checked against a real run by <code>test/docs/outputs.test.ts</code>` +
        `</div>${render(tokens, idx, options, env, self)}</div>`
      )
    }
    if (words.includes('illustration')) {
      token.info = words[0] ?? 'ts'
      return (
        `<div class="book-fence book-illustration"><div class="book-fence-label">` +
        `Illustration: written into the page, not compiled or tested` +
        `</div>${render(tokens, idx, options, env, self)}</div>`
      )
    }
    return render(tokens, idx, options, env, self)
  }
}
