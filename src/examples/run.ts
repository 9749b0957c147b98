import { pathToFileURL } from 'node:url'

/** Where an example writes its lines; a test passes one that captures them. */
export type Out = (line: string) => void

/**
 * Runs an example's `main` when its file is the program being run
 * (`npx tsx src/examples/name.ts`), and does nothing when it is imported.
 */
export function runIfMain(
  moduleUrl: string,
  main: (out: Out) => Promise<void>,
): void {
  const entry = process.argv[1]
  if (entry === undefined || pathToFileURL(entry).href !== moduleUrl) return
  main((line) => console.log(line)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
