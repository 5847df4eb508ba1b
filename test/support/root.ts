/**
 * Tests that build network namespaces (the lab, the e2e tests) need root. Without it they fail,
 * never skip — in CI and outside it — so a green run always means they ran.
 *
 * Call it inside each test (or a wrapper around `it`), not only in `beforeAll`: when a `beforeAll`
 * hook throws, vitest reports the suite's tests as skipped, not failed, and the JSON report that
 * .ci/run counts says 0 failed.
 */
export function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new Error('root is required for network namespaces (run the tests as root)');
}
