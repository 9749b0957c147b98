// Graphviz (compiled to WebAssembly by @viz-js/viz) turns a DOT graph into
// SVG when the site is built: the page gets the picture, not a renderer.
import { instance } from '@viz-js/viz'

let viz: ReturnType<typeof instance> | undefined

/**
 * The SVG for `dot`, ready to inline: no XML prolog or comments, sized by
 * its viewBox, and named by `alt` for a screen reader (`role="img"`).
 */
export async function renderDot(dot: string, alt: string): Promise<string> {
  const result = (await (viz ??= instance())).render(dot, { format: 'svg' })
  if (result.status !== 'success') {
    throw new Error(`graphviz: ${result.errors.map((e) => e.message).join('; ')}`)
  }
  const svg = result.output.slice(result.output.indexOf('<svg'))
  const width = /<svg width="([\d.]+)pt"/.exec(svg)?.[1]
  return svg
    .replace(/<!--[\s\S]*?-->\n?/g, '')
    .replace(
      /<svg width="[\d.]+pt" height="[\d.]+pt"/,
      // 1pt is 4/3 px: the picture's own size, never wider than its column.
      `<svg role="img" aria-label="${escapeXml(alt)}" style="max-width: min(100%, ${Math.round(
        (Number(width) * 4) / 3,
      )}px)"`,
    )
    .trim()
}

/** A DOT id or label: always quoted, so that any text is safe. */
export function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

/** The edges an SVG from Graphviz draws, as `from->to`, read from its titles. */
export function edgesOf(svg: string): string[] {
  const unescape = (s: string) =>
    s.replace(/&#45;/g, '-').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&')
  return [...svg.matchAll(/<g id="edge\d+" class="edge[^"]*">\s*<title>([^<]*)<\/title>/g)].map(
    (m) => unescape(m[1]!),
  )
}

/** The nodes an SVG from Graphviz draws, read from their titles. */
export function nodesOf(svg: string): string[] {
  return [...svg.matchAll(/<g id="node\d+" class="node[^"]*">\s*<title>([^<]*)<\/title>/g)].map(
    (m) => m[1]!.replace(/&amp;/g, '&'),
  )
}
