import { beforeEach, expect } from 'vitest'

// A test that asserts nothing proves nothing: every test must make at least
// one assertion, or it fails with "expected any number of assertion, but got none".
beforeEach(() => {
  expect.hasAssertions()
})
