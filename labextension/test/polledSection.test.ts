/** Models read on a Lumino Poll: nothing while hidden or unconfigured, a read when shown, the
 * last failure kept for the view, and a section following the status model's interval. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError } from '../src/api';
import { MAX_BACKOFF_MS, PolledModel, PolledSection, pollFrequency } from '../src/polledSection';
import { StatusModel } from '../src/status';
import { sleep, until } from './timing';

/** What a read does next: succeed, or fail with this. */
type Outcome = 'ok' | Error;

/** A model whose reads answer from a script, recording whether each saw `loading`. */
class Scripted extends PolledModel {
  constructor(readonly outcomes: Outcome[] = []) {
    super('test:scripted', 60);
  }

  reads = 0;
  loadingSeen: boolean[] = [];

  protected async load(): Promise<void> {
    this.reads += 1;
    this.loadingSeen.push(this.loading);
    const next = this.outcomes.shift() ?? 'ok';
    if (next !== 'ok') {
      throw next;
    }
  }
}

/** A section whose `configured` the test sets; it counts its reads. */
class Section extends PolledSection {
  constructor(status: StatusModel) {
    super(status, 'test:section');
  }

  allowed = false;
  reads = 0;

  get configured(): boolean {
    return this.allowed;
  }

  get loaded(): boolean {
    return this.reads > 0;
  }

  get seconds(): number {
    return this.interval;
  }

  protected async load(): Promise<void> {
    this.reads += 1;
  }
}

test('the frequency backs off up to five minutes, or the interval when that is longer', () => {
  assert.deepEqual(pollFrequency(10), { interval: 10_000, backoff: true, max: MAX_BACKOFF_MS });
  assert.deepEqual(pollFrequency(600), { interval: 600_000, backoff: true, max: 600_000 });
});

test('a hidden model reads nothing; showing it reads at once, loading while it reads', async () => {
  const model = new Scripted();
  let told = 0;
  model.changed.connect(() => (told += 1));
  await sleep(50);
  assert.equal(model.reads, 0, 'nothing is read while hidden');
  model.visible = true;
  assert.equal(model.visible, true);
  await until(() => model.reads === 1 && !model.loading, 'the first read');
  assert.deepEqual(model.loadingSeen, [true]);
  assert.equal(model.error, null);
  assert.ok(told >= 2, 'the view was told when the read started and when it ended');
  model.dispose();
});

test('a failed read is kept as the error, in ApiError words, until a read succeeds', async () => {
  const model = new Scripted([new Error('boom'), new ApiError(503, 'unavailable', 'down'), 'ok']);
  model.visible = true;
  await until(() => model.reads === 1 && !model.loading, 'the failed read');
  assert.equal(model.error?.status, 0);
  assert.equal(model.error?.reason, 'unexpected');
  assert.match(model.error?.message ?? '', /boom/);
  model.visible = false;
  model.visible = true;
  await until(() => model.reads === 2 && !model.loading, 'the second read');
  assert.equal(model.error?.status, 503);
  assert.equal(model.error?.message, 'down');
  model.visible = false;
  model.visible = true;
  await until(() => model.reads === 3 && !model.loading, 'the third read');
  assert.equal(model.error, null);
  model.dispose();
});

test('a disposed model is silent and reads no more', async () => {
  const model = new Scripted();
  let told = 0;
  model.changed.connect(() => (told += 1));
  model.dispose();
  model.visible = true;
  await sleep(50);
  assert.equal(model.reads, 0);
  assert.equal(told, 0);
  assert.equal(model.isDisposed, true);
});

test('a section reads once the status allows it, and follows the status interval', async () => {
  const status = new StatusModel();
  const section = new Section(status);
  section.visible = true;
  await sleep(50);
  assert.equal(section.reads, 0, 'an unconfigured section reads nothing');
  assert.equal(section.seconds, status.refreshSeconds);
  section.allowed = true;
  // Any change of the status tells the sections; a new interval is one.
  status.refreshSeconds = status.refreshSeconds + 5;
  await until(() => section.reads === 1, 'the read the status allowed');
  assert.equal(section.seconds, status.refreshSeconds);
  assert.equal(section.readOnly, status.readOnly);
  status.refreshSeconds = status.refreshSeconds + 5;
  await sleep(50);
  assert.equal(section.reads, 1, 'a loaded section waits for its interval');
  assert.equal(section.seconds, status.refreshSeconds);
  section.dispose();
  status.refreshSeconds = status.refreshSeconds + 5;
  assert.notEqual(section.seconds, status.refreshSeconds, 'a disposed section no longer follows');
  status.dispose();
});

test('a hidden section stands by even when configured; showing it reads', async () => {
  const status = new StatusModel();
  const section = new Section(status);
  section.allowed = true;
  section.refresh();
  await sleep(50);
  assert.equal(section.reads, 0, 'a hidden section stands by');
  section.visible = true;
  await until(() => section.reads === 1, 'the read on showing');
  section.refresh();
  await until(() => section.reads === 2, 'the read refresh asked for');
  section.dispose();
  status.dispose();
});
