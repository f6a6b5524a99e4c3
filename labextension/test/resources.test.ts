/** The Resources view's pure helpers: bar fractions and tones, amounts, the pods' order. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { PodResources, QuotaLine } from '../src/models.generated';
import {
  amountWords,
  barFraction,
  barTone,
  nextPodSort,
  quotasByName,
  sortPods
} from '../src/resources';

function pod(name: string, requests: Record<string, number>, usage?: Record<string, number>) {
  const shown: PodResources = { name, requests, limits: {}, usage: usage ?? null };
  return shown;
}

describe('barFraction', () => {
  test('is the part of the whole', () => {
    assert.equal(barFraction(1, 4), 0.25);
  });
  test('stays within the bar when over or under', () => {
    assert.equal(barFraction(6, 4), 1);
    assert.equal(barFraction(-1, 4), 0);
  });
  test('is null without a whole or a part', () => {
    assert.equal(barFraction(1, 0), null);
    assert.equal(barFraction(1, null), null);
    assert.equal(barFraction(null, 4), null);
  });
});

test('barTone warns from 80 % and is full when nothing is left', () => {
  assert.equal(barTone(1, 4), 'ok');
  assert.equal(barTone(3.2, 4), 'warn');
  assert.equal(barTone(4, 4), 'full');
  assert.equal(barTone(0, 0), 'full');
});

test('amountWords speaks as kubectl does', () => {
  assert.equal(amountWords('cpu', 0.25), '250m');
  assert.equal(amountWords('requests.cpu', 2), '2');
  assert.equal(amountWords('requests.cpu', 1.5), '1500m');
  assert.equal(amountWords('memory', 512 * 1024 ** 2), '512Mi');
  assert.equal(amountWords('limits.memory', 1.5 * 1024 ** 3), '1.5Gi');
  assert.equal(amountWords('requests.storage', 10 * 1024 ** 3), '10Gi');
  assert.equal(amountWords('pods', 3), '3');
  assert.equal(amountWords('cpu', null), '—');
});

describe('sortPods', () => {
  const pods = [
    pod('b', { cpu: 0.5 }, { cpu: 0.9 }),
    pod('a', { cpu: 2 }, { cpu: 0.1 }),
    pod('c', {}, undefined),
    pod('d', { cpu: 1 }, { cpu: 0.4 })
  ];
  const names = (sorted: PodResources[]) => sorted.map(p => p.name);

  test('by request, largest first, pods without one last', () => {
    const sort = { by: 'request', resource: 'cpu', descending: true } as const;
    assert.deepEqual(names(sortPods(pods, sort)), ['a', 'd', 'b', 'c']);
  });
  test('by use, smallest first, pods without metrics still last', () => {
    const sort = { by: 'use', resource: 'cpu', descending: false } as const;
    assert.deepEqual(names(sortPods(pods, sort)), ['a', 'd', 'b', 'c']);
    const down = { ...sort, descending: true };
    assert.deepEqual(names(sortPods(pods, down)), ['b', 'd', 'a', 'c']);
  });
  test('ties go by name, and the input is left alone', () => {
    const tied = [pod('y', { memory: 1 }), pod('x', { memory: 1 })];
    const sort = { by: 'request', resource: 'memory', descending: true } as const;
    assert.deepEqual(names(sortPods(tied, sort)), ['x', 'y']);
    assert.deepEqual(names(tied), ['y', 'x']);
  });
});

test('nextPodSort flips the same column and starts another largest first', () => {
  const current = { by: 'request', resource: 'cpu', descending: true } as const;
  assert.deepEqual(nextPodSort(current, 'request', 'cpu'), { ...current, descending: false });
  assert.deepEqual(nextPodSort({ ...current, descending: false }, 'use', 'memory'), {
    by: 'use',
    resource: 'memory',
    descending: true
  });
});

test('quotasByName keeps each quota once, its lines in order', () => {
  const line = (quota: string, resource: string): QuotaLine => ({
    quota,
    resource,
    used: 0,
    hard: 1,
    free: 1
  });
  const grouped = quotasByName([line('q1', 'pods'), line('q2', 'pods'), line('q1', 'cpu')]);
  assert.deepEqual([...grouped.keys()], ['q1', 'q2']);
  assert.deepEqual(
    grouped.get('q1')!.map(l => l.resource),
    ['pods', 'cpu']
  );
});
