/** Retries on a Lumino Poll: one try per schedule, waits that double up to the maximum. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Backoff } from '../src/backoff';
import { sleep, until } from './timing';

/** A backoff that records when it ran, in milliseconds since it was made. */
function recording(first: number, max: number): { backoff: Backoff; runs: number[] } {
  const start = performance.now();
  const runs: number[] = [];
  const backoff = new Backoff({
    name: 'test',
    first,
    max,
    run: () => runs.push(performance.now() - start)
  });
  return { backoff, runs };
}

test('a schedule runs once, after the wait', async () => {
  const { backoff, runs } = recording(40, 400);
  backoff.schedule();
  assert.equal(backoff.pending, true);
  await sleep(15);
  assert.deepEqual(runs, []);
  await until(() => runs.length === 1, 'the run');
  assert.ok(runs[0] >= 35, `ran after ${runs[0]} ms`);
  assert.equal(backoff.pending, false);
  await sleep(100);
  assert.equal(runs.length, 1, 'the poll does not tick on its own');
  backoff.dispose();
});

test('each schedule waits twice as long as the last, up to the maximum, until reset', () => {
  const { backoff } = recording(100, 300);
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    waits.push(backoff.wait);
    backoff.schedule();
    backoff.cancel();
  }
  assert.deepEqual(waits, [100, 200, 300, 300]);
  backoff.reset();
  assert.equal(backoff.wait, 100);
  backoff.dispose();
});

test('a schedule while a try waits is the same try', async () => {
  const { backoff, runs } = recording(30, 300);
  backoff.schedule();
  backoff.schedule();
  assert.equal(backoff.wait, 60, 'only the first schedule doubled the wait');
  await until(() => runs.length === 1, 'the run');
  await sleep(100);
  assert.equal(runs.length, 1);
  backoff.dispose();
});

test('a cancelled try and a disposed backoff never run', async () => {
  const { backoff, runs } = recording(20, 200);
  backoff.schedule();
  backoff.cancel();
  assert.equal(backoff.pending, false);
  await sleep(80);
  assert.deepEqual(runs, []);
  backoff.schedule();
  backoff.dispose();
  backoff.schedule();
  await sleep(80);
  assert.deepEqual(runs, []);
  assert.equal(backoff.isDisposed, true);
});

test('after a run the next schedule runs again', async () => {
  const { backoff, runs } = recording(20, 200);
  backoff.schedule();
  await until(() => runs.length === 1, 'the first run');
  const again = performance.now();
  backoff.schedule();
  await until(() => runs.length === 2, 'the second run');
  const waited = performance.now() - again;
  assert.ok(waited >= 35, `the second wait was the doubled one, not ${waited} ms`);
  backoff.dispose();
});
