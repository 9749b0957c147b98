/**
 * Compiles `src/` and `bench/` to plain JavaScript for the benchmarks, the
 * way a deployment would (TypeScript's own emit), into
 * `node_modules/.cache/workstream-bench/`.
 *
 * Why not measure under tsx: tsx compiles with esbuild's `keepNames`, which
 * wraps every function expression in a `__name(fn, "name")` call, an
 * `Object.defineProperty` each time a closure is created. Code that
 * creates closures per operation (a channel parking a waiter) then
 * measures several times slower than it runs when compiled: the figure
 * would be tsx's, not the code's.
 */
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import ts from 'typescript'

const FOLDERS = ['src', 'bench']

/**
 * Transpiles every `.ts` file of `src/` and `bench/` and copies the other
 * files (`.mjs` modules, say) beside them, into `node_modules/.cache/<name>`
 * (emptied first); returns that folder.
 */
export async function buildBench(
  root: string,
  name = 'workstream-bench',
): Promise<string> {
  const out = path.join(root, 'node_modules', '.cache', name)
  await rm(out, { recursive: true, force: true })
  for (const folder of FOLDERS) {
    for (const file of await filesIn(path.join(root, folder))) {
      const copy = path.join(out, path.relative(root, file))
      await mkdir(path.dirname(copy), { recursive: true })
      if (!file.endsWith('.ts')) {
        await copyFile(file, copy)
        continue
      }
      if (file.endsWith('.d.ts')) continue
      const source = await readFile(file, 'utf8')
      const { outputText } = ts.transpileModule(source, {
        fileName: file,
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
          rewriteRelativeImportExtensions: true,
        },
      })
      await writeFile(copy.replace(/\.ts$/, '.js'), outputText)
    }
  }
  // Inside node_modules, Node looks for no package.json above: say ESM here.
  await writeFile(path.join(out, 'package.json'), '{ "type": "module" }\n')
  return out
}

async function filesIn(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && !e.parentPath.includes('results'))
    .map((e) => path.join(e.parentPath, e.name))
}
