/** The models' shared base: `changed` told at once or once per batch, silent once disposed. */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ModelBase } from '../src/modelBase';

/** The smallest model: it counts how often it released what it holds. */
class Counter extends ModelBase {
  released = 0;

  now(): void {
    this.emit();
  }

  soon(): void {
    this.emitSoon();
  }

  protected onDispose(): void {
    this.released += 1;
  }
}

function listen(model: Counter): { count: () => number } {
  let count = 0;
  model.changed.connect(() => (count += 1));
  return { count: () => count };
}

test('emit tells the view at once', () => {
  const model = new Counter();
  const heard = listen(model);
  model.now();
  model.now();
  assert.equal(heard.count(), 2);
});

test('changes made in one turn are told once, after it', async () => {
  const model = new Counter();
  const heard = listen(model);
  model.soon();
  model.soon();
  model.soon();
  assert.equal(heard.count(), 0);
  await Promise.resolve();
  assert.equal(heard.count(), 1);
  model.soon();
  await Promise.resolve();
  assert.equal(heard.count(), 2);
});

test('dispose releases once and silences the model, even a batch already pending', async () => {
  const model = new Counter();
  const heard = listen(model);
  model.soon();
  model.dispose();
  model.dispose();
  assert.equal(model.isDisposed, true);
  assert.equal(model.released, 1);
  model.now();
  await Promise.resolve();
  assert.equal(heard.count(), 0);
});
