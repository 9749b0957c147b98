import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { defineConfig, type HeadConfig, type MarkdownOptions } from 'vitepress'
import { transformerTwoslash } from '@shikijs/vitepress-twoslash'
import { root } from './lib/book.ts'
import { existingParts, pageTitle } from './lib/chapters.ts'
import { claimsPlugin } from './plugins/claims.ts'
import { colourClasses } from './plugins/colour-classes.ts'
import { fencesPlugin } from './plugins/fences.ts'
import { snippetsPlugin } from './plugins/snippets.ts'

const favicon =
  'data:image/svg+xml,' +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
      '<rect width="32" height="32" rx="6" fill="#3451b2"/>' +
      '<path d="M7 10h18M7 16h12M7 22h15" stroke="#fff" stroke-width="3" stroke-linecap="round"/>' +
      '</svg>',
  )

// Only when building: `vitepress dev` keeps shiki's inline colours, since
// the stylesheet is written at the end of a build.
const building = process.env.NODE_ENV === 'production'
const colours = colourClasses()
const coloursFile = 'code-colours.css'

type CodeTransformer = NonNullable<MarkdownOptions['codeTransformers']>[number]

export default defineConfig({
  title: 'WorkStream in TypeScript',
  description:
    'Background workers in TypeScript, taught by building one job service. ' +
    'Every snippet compiled, every claim tested.',
  srcDir: 'docs',
  cleanUrls: true,
  lastUpdated: false,
  // An inline icon: no request, so no 404 for /favicon.ico either.
  head: [
    ['link', { rel: 'icon', type: 'image/svg+xml', href: favicon }],
    ...(building ? [['link', { rel: 'stylesheet', href: `/${coloursFile}` }] as HeadConfig] : []),
  ],
  buildEnd(site) {
    writeFileSync(path.join(site.outDir, coloursFile), colours.css())
  },
  themeConfig: {
    nav: [
      { text: 'Read the book', link: '/guide/why-background-workers' },
      { text: 'Claims', link: '/reference/claims' },
    ],
    sidebar: existingParts().map((part) => ({
      text: part.title,
      items: part.pages.map((page) => ({
        text: pageTitle(page),
        link: `/${page}`,
      })),
    })),
    outline: [2, 3],
    search: {
      provider: 'local',
      options: {
        // The index is built by rendering every page again; without the
        // imported code, twoslash does not run a second time for it (the
        // build takes half as long) and search finds the prose.
        _render: (src, env, md) => md.render(src.replace(/^<<<.*$/gm, ''), env),
      },
    },
  },
  markdown: {
    // GitHub's colours, in the pair whose every token keeps 4.5:1 against
    // the code background in both modes (github-light's keywords and
    // comments do not; github-dark's comments do not): see the browser tests.
    theme: { light: 'github-light-high-contrast', dark: 'github-dark-default' },
    config(md) {
      // BOOK_SOURCE_URL, e.g. https://host/owner/repo/blob/main/: each
      // imported block then links its file and line there.
      snippetsPlugin(md, { sourceUrl: process.env.BOOK_SOURCE_URL })
      claimsPlugin(md)
      fencesPlugin(md)
    },
    codeTransformers: [
      // vitepress 1.6 nests shiki 2, the twoslash plugin is typed against
      // shiki 4: the transformer works with both, only the types differ.
      transformerTwoslash({
        // Any TypeScript error in a shown file fails the build.
        throws: true,
        twoslashOptions: {
          // Never a trailing slash here: it silently turns off error reporting.
          vfsRoot: path.resolve(root),
          compilerOptions: {
            module: 99 /* ESNext */,
            moduleResolution: 100 /* Bundler */,
            target: 9 /* ES2022 */,
            allowImportingTsExtensions: true,
            noEmit: true,
            strict: true,
            types: ['node'],
          },
        },
      }) as unknown as CodeTransformer,
      ...(building ? [colours.transformer as unknown as CodeTransformer] : []),
      {
        // ---cut-after--- leaves a trailing empty line.
        name: 'book:trim-cut',
        preprocess(code) {
          return code.replace(/\n+$/, '')
        },
      },
    ],
  },
  vite: {
    server: { fs: { allow: [root] } },
  },
})
