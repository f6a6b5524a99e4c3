/** Waiting in the TS tests: a busy machine fires timers late, never early. */

import assert from 'node:assert/strict';

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

/** Wait until `check` holds, failing after ten seconds. */
export async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!check()) {
    assert.ok(performance.now() < deadline, `timed out waiting for ${what}`);
    await sleep(5);
  }
}
