// The little of autocannon 9 that bench/children/load.ts uses (the package
// ships no types).
declare module 'autocannon' {
  interface Options {
    url: string
    connections?: number
    duration?: number
    method?: string
    body?: string
    headers?: Record<string, string>
    overallRate?: number
  }
  interface Result {
    start: Date
    finish: Date
    errors: number
    timeouts: number
  }
  interface Instance extends PromiseLike<Result> {
    on(
      event: 'response',
      listener: (client: unknown, statusCode: number, bytes: number, ms: number) => void,
    ): this
  }
  export default function autocannon(options: Options): Instance
}
