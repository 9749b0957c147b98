// Shiki writes each token's two colours inline, as
// `style="--shiki-light:#24292E;--shiki-dark:#E1E4E8"`: 45% of a chapter's
// page chunk (383 of 853 kB for observability). This transformer gives the
// token a class named after its pair of colours instead, and the build
// writes one small stylesheet with every pair it met.
import { createHash } from 'node:crypto'

interface Node {
  type: string
  properties?: Record<string, unknown>
  children?: Node[]
  /** A `<template>`'s own tree: where twoslash puts a hover's popup. */
  content?: Node
}

const dual = /^--shiki-light:(#[0-9a-fA-F]{3,8});--shiki-dark:(#[0-9a-fA-F]{3,8})$/

export function colourClasses() {
  const pairs = new Map<string, { light: string; dark: string }>()
  const visit = (node: Node): void => {
    const style = node.properties?.style
    if (typeof style === 'string') {
      const m = dual.exec(style)
      // Another style (italic, say, or the block's own background): left inline.
      if (m) {
        const light = m[1]!.toLowerCase()
        const dark = m[2]!.toLowerCase()
        // Named by its colours, not by the order met: the client and the
        // server bundles render the pages separately and must agree.
        const name = `s-${createHash('sha1').update(light + dark).digest('hex').slice(0, 6)}`
        const known = pairs.get(name)
        if (!known || (known.light === light && known.dark === dark)) {
          pairs.set(name, { light, dark })
          delete node.properties!.style
          const cls = node.properties!.class
          node.properties!.class = cls ? [cls, name].flat().join(' ') : name
        }
      }
    }
    for (const child of node.children ?? []) visit(child)
    if (node.content) visit(node.content)
  }
  const transformer = {
    name: 'book:colour-classes',
    // The whole tree, after twoslash has put its popups in: their type code
    // is highlighted without the block's transformers.
    root(root: Node) {
      visit(root)
    },
  }
  const css = () =>
    [...pairs]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, c]) => `.${name}{--shiki-light:${c.light};--shiki-dark:${c.dark}}`)
      .join('\n') + '\n'
  return { transformer, css, pairs }
}
