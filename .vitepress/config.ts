import path from 'node:path'
import { defineConfig, type MarkdownOptions } from 'vitepress'
import { transformerTwoslash } from '@shikijs/vitepress-twoslash'
import { root } from './lib/book.ts'
import { existingParts, pageTitle } from './lib/chapters.ts'
import { claimsPlugin } from './plugins/claims.ts'
import { fencesPlugin } from './plugins/fences.ts'
import { snippetsPlugin } from './plugins/snippets.ts'

type CodeTransformer = NonNullable<MarkdownOptions['codeTransformers']>[number]

export default defineConfig({
  title: 'WorkStream in TypeScript',
  description:
    'Background workers in TypeScript, taught by building one job service. ' +
    'Every snippet compiled, every claim tested.',
  srcDir: 'docs',
  cleanUrls: true,
  lastUpdated: false,
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
    config(md) {
      snippetsPlugin(md)
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
