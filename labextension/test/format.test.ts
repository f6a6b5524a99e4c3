/** Words for times and values, and the chart's axes and colours. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { niceAxis, niceStep, PALETTE_SIZE, runColourIndex, tickLabel } from '../src/chartScale';
import {
  asText,
  compactValue,
  formatAge,
  formatTime,
  SHORT_VALUE_CHARS,
  summariseValue
} from '../src/format';

const START = '2026-01-01T00:00:00Z';
const start = Date.parse(START);
const after = (seconds: number): number => start + seconds * 1000;

describe('formatAge', () => {
  test('seconds, then minutes, hours and days, each kept up to twice the next unit', () => {
    assert.equal(formatAge(START, after(59)), '59s');
    assert.equal(formatAge(START, after(60)), '1m');
    assert.equal(formatAge(START, after(119 * 60)), '119m');
    assert.equal(formatAge(START, after(2 * 3600)), '2h');
    assert.equal(formatAge(START, after(47 * 3600)), '47h');
    assert.equal(formatAge(START, after(2 * 86400)), '2d');
  });

  test('a time in the future reads as now, an unreadable one as nothing', () => {
    assert.equal(formatAge(START, after(-30)), '0s');
    assert.equal(formatAge('not a time', after(0)), '');
  });
});

describe('formatTime', () => {
  test('the local time with how long ago it was', () => {
    const text = formatTime(START, after(300));
    assert.ok(text.startsWith(new Date(start).toLocaleString()));
    assert.ok(text.endsWith('(5m ago)'));
  });

  test('nothing for no time, the text itself for an unreadable one', () => {
    assert.equal(formatTime(null, after(0)), '');
    assert.equal(formatTime('soon', after(0)), 'soon');
  });
});

describe('asText and compactValue', () => {
  test('cells: lists joined, booleans as yes or no, nothing as empty', () => {
    assert.equal(asText(['a', 1, true]), 'a, 1, yes');
    assert.equal(asText(false), 'no');
    assert.equal(asText(null), '');
    assert.equal(asText({ a: 1 }), JSON.stringify({ a: 1 }));
  });

  test('values keep their brackets and quote strings inside them', () => {
    assert.equal(compactValue([1, [2, 'x']]), '[1, [2, "x"]]');
    assert.equal(compactValue({ lr: 0.1 }), '{"lr": 0.1}');
    assert.equal(compactValue('bare'), 'bare');
  });
});

describe('summariseValue', () => {
  test('a short value is shown whole', () => {
    assert.deepEqual(summariseValue([1, 2, 3]), { short: '[1, 2, 3]', full: null });
  });

  test('a long list says its length, what it holds and its first items', () => {
    const values = Array.from({ length: 200 }, (_, i) => i);
    const { short, full } = summariseValue(values);
    assert.ok(short.startsWith('list of 200 numbers: [0, 1, 2, …]'), short);
    assert.deepEqual(JSON.parse(full ?? ''), values);
  });

  test("a string holding Python's repr of a list is read as the list", () => {
    const items = Array.from({ length: 30 }, (_, i) => `'item${i}'`);
    const { short } = summariseValue(`[${items.join(', ')}]`);
    assert.ok(short.startsWith('list of 30 strings:'), short);
  });

  test('long text says how long it is', () => {
    const text = 'x'.repeat(SHORT_VALUE_CHARS + 1);
    assert.ok(summariseValue(text).short.startsWith(`text of ${text.length} characters: `));
    assert.equal(summariseValue(text).full, text);
  });
});

describe('chart scale', () => {
  test('a step is 1, 2 or 5 times a power of ten', () => {
    for (const span of [0.003, 0.7, 1, 9, 42, 1234, 9.9e6]) {
      const step = niceStep(span, 5);
      const mantissa = step / Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
      assert.ok(
        [1, 2, 5].some(m => Math.abs(mantissa - m) < 1e-9),
        `${span} → ${step}`
      );
    }
  });

  test('an axis covers its range with round ticks one step apart', () => {
    const axis = niceAxis(0.13, 0.87);
    assert.ok(axis.low <= 0.13 && axis.high >= 0.87);
    assert.equal(axis.ticks[0], axis.low);
    assert.equal(axis.ticks[axis.ticks.length - 1], axis.high);
    for (let i = 1; i < axis.ticks.length; i++) {
      assert.ok(Math.abs(axis.ticks[i] - axis.ticks[i - 1] - axis.step) < 1e-12);
    }
    // Round ticks: no floating-point drift in what the labels show.
    assert.ok(
      axis.ticks.every(tick => String(tick).length <= 4),
      axis.ticks.join(' ')
    );
  });

  test('an integer axis of one value has that value as its only tick', () => {
    assert.deepEqual(niceAxis(3, 3, 5, true), { low: 2, high: 4, step: 1, ticks: [3] });
  });

  test('an integer axis never ticks between integers', () => {
    const axis = niceAxis(0, 3, 10, true);
    assert.ok(axis.step >= 1);
    assert.ok(axis.ticks.every(Number.isInteger));
  });

  test('labels have as many decimals as the step needs', () => {
    assert.equal(tickLabel(0, 0.05), '0');
    assert.equal(tickLabel(0.15, 0.05), '0.15');
    assert.equal(tickLabel(1.5, 0.5), '1.5');
    assert.equal(tickLabel(20, 10), '20');
    assert.equal(tickLabel(1.5e-7, 5e-8), '1.5e-7');
  });

  test('a run keeps its colour, and colours stay inside the palette', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `run-${i}`);
    for (const id of ids) {
      const index = runColourIndex(id);
      assert.equal(runColourIndex(id), index);
      assert.ok(Number.isInteger(index) && index >= 0 && index < PALETTE_SIZE);
    }
    assert.ok(new Set(ids.map(runColourIndex)).size > 1);
  });

  test('the colour is FNV-1a of the UTF-8 bytes: the empty id is the offset basis', () => {
    assert.equal(runColourIndex(''), 0x811c9dc5 % PALETTE_SIZE);
  });
});
