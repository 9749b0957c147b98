import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const jobsDir = join(root, 'src/jobs')

/** Every module specifier in `source`, in every form a file can import by. */
function moduleSpecifiers(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const literal = (node: ts.Node | undefined) => {
    if (node !== undefined && ts.isStringLiteralLike(node)) found.push(node.text)
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      literal(node.moduleSpecifier) // import … from 'x', import 'x', export … from 'x'
    } else if (ts.isImportEqualsDeclaration(node)) {
      const reference = node.moduleReference // import x = require('x')
      if (ts.isExternalModuleReference(reference)) literal(reference.expression)
    } else if (ts.isImportTypeNode(node)) {
      literal(ts.isLiteralTypeNode(node.argument) ? node.argument.literal : undefined)
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression // import('x'), require('x'), createRequire(…)('x')
      const imports =
        callee.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(callee) && callee.text === 'require') ||
        ts.isCallExpression(callee) ||
        (ts.isPropertyAccessExpression(callee) && callee.name.text === 'resolve')
      if (imports) literal(node.arguments[0])
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

const HTTP_PACKAGES = [
  /^(?:node:)?https?(?:\/|$)/,
  /^(?:node:)?http2(?:\/|$)/,
  /^hono(?:\/|$)/,
  /^@hono\//,
  /^undici(?:\/|$)/,
]
// What sees HTTP in this project: the HTTP layer and what composes it.
const HTTP_FILES = ['src/http/', 'src/service.ts', 'src/main.ts', 'src/shutdown.ts']

/** Why `specifier`, imported by `fileName`, is HTTP code; undefined if not. */
function httpImport(fileName: string, specifier: string): string | undefined {
  if (HTTP_PACKAGES.some((pattern) => pattern.test(specifier))) return specifier
  if (!specifier.startsWith('.')) return undefined
  const target = relative(root, resolve(dirname(fileName), specifier))
  return HTTP_FILES.some((file) => target === file || target.startsWith(file))
    ? target
    : undefined
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(?:[cm]?ts|[cm]?js)$/.test(name))
    .map((name) => join(dir, name))
}

describe('the job domain', () => {
  it('worker-knows-no-http: no file under src/jobs, at any depth, imports HTTP code', () => {
    const files = filesUnder(jobsDir)
    // The scan reaches the subfolders and the plain JavaScript.
    expect(files).toContain(join(jobsDir, 'worker.ts'))
    expect(files).toContain(join(jobsDir, 'cpu/hash-chain.mjs'))
    const offending: string[] = []
    const seen = new Map<string, string[]>()
    for (const file of files) {
      const specifiers = moduleSpecifiers(file, readFileSync(file, 'utf8'))
      seen.set(relative(root, file), specifiers)
      for (const specifier of specifiers) {
        const http = httpImport(file, specifier)
        if (http !== undefined) offending.push(`${relative(root, file)} imports ${http}`)
      }
    }
    // It read real imports, in .ts and .mjs files alike.
    expect(seen.get('src/jobs/cpu/hash-chain.mjs')).toContain('node:crypto')
    expect(seen.get('src/jobs/cpu/hash.ts')).toContain('./hash-chain.mjs')
    expect(offending).toEqual([])
  })

  it('worker-knows-no-http: the scan sees every import form and every HTTP module', () => {
    const file = join(jobsDir, 'cpu/example.ts')
    const forms = [
      `import 'node:http'`,
      `import http from 'node:https'`,
      `import * as h2 from 'node:http2'`,
      `import { Hono } from 'hono'`,
      `import type { Context } from 'hono/tiny'`,
      `export { serve } from '@hono/node-server'`,
      `export * from 'undici'`,
      `const app = await import('../../http/app.ts')`,
      `const http = require('http')`,
      `import net = require('https')`,
      `const r = createRequire(import.meta.url)('http2')`,
      `let s: typeof import('../../service.ts')`,
      `import { main } from '../../main.ts'`,
    ]
    for (const form of forms) {
      const found = moduleSpecifiers(file, form).map((s) => httpImport(file, s))
      expect(found.filter((reason) => reason !== undefined), form).toHaveLength(1)
    }
    // Neither the job domain's own modules nor look-alikes are HTTP code.
    const fine = [
      `import { spawn } from '../../concurrency/task.ts'`,
      `import { hashChain } from './hash-chain.mjs'`,
      `import { Piscina } from 'piscina'`,
      `import { createHash } from 'node:crypto'`,
      `import { httpish } from './http-status.ts'`,
      `const s = 'node:http' // a string, not an import`,
    ]
    for (const form of fine) {
      const found = moduleSpecifiers(file, form).map((s) => httpImport(file, s))
      expect(found.filter((reason) => reason !== undefined), form).toEqual([])
    }
  })
})
