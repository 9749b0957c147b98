// Loaded with `node --import` into a process that uses `pg`: counts every
// statement it sends, by prepared name (or its first words), with the rows
// it got back and the time from send to answer; prints them to stderr as
// one JSON line when the process exits. For profiles, not for production.
import pg from 'pg'

const statements = new Map()
const query = pg.Client.prototype.query

pg.Client.prototype.query = function (config, values, callback) {
  const key =
    typeof config === 'string' ? config.slice(0, 40) : (config?.name ?? config?.text?.slice(0, 40))
  const entry = statements.get(key) ?? { calls: 0, rows: 0, ms: 0 }
  statements.set(key, entry)
  entry.calls++
  const sent = performance.now()
  const answered = (result) => {
    entry.ms += performance.now() - sent
    entry.rows += result?.rowCount ?? 0
  }
  const wrap = (done) => (error, result) => {
    answered(result)
    done(error, result)
  }
  // pg takes its callback in any of three places.
  if (typeof config?.callback === 'function') config.callback = wrap(config.callback)
  else if (typeof values === 'function') values = wrap(values)
  else if (typeof callback === 'function') callback = wrap(callback)
  const result = query.call(this, config, values, callback)
  if (typeof result?.then === 'function') result.then(answered, () => {})
  return result
}

process.on('exit', () => {
  process.stderr.write(`${JSON.stringify({ statements: Object.fromEntries(statements) })}\n`)
})
