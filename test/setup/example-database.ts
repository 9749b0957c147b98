import { inject } from 'vitest'

// Examples that need PostgreSQL make their database on the test run's
// server (see `exampleDatabase` in src/examples/run.ts), not on an
// embedded server of their own.
process.env['EXAMPLE_DATABASE_URL'] ??= inject('postgresUrl')
