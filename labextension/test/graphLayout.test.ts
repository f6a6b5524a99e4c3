/** The task graph's layout: layers from dependencies, boxes that never overlap, arrows downwards. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  BOX_HEIGHT,
  BOX_WIDTH,
  edgePath,
  GAP_X,
  GAP_Y,
  ILayoutTask,
  layoutGraph,
  NAME_CHARACTERS,
  shortName,
  taskDepths
} from '../src/graphLayout';

/** A diamond: prepare feeds train and evaluate, both feed report. */
const DIAMOND: ILayoutTask[] = [
  { name: 'report', depends_on: ['train', 'evaluate'] },
  { name: 'train', depends_on: ['prepare'] },
  { name: 'prepare', depends_on: [] },
  { name: 'evaluate', depends_on: ['prepare'] }
];

describe('taskDepths', () => {
  test('a task sits one layer below the deepest task it depends on', () => {
    const tasks: ILayoutTask[] = [
      { name: 'a' },
      { name: 'b', depends_on: ['a'] },
      { name: 'c', depends_on: ['a', 'b'] }
    ];
    assert.deepEqual(taskDepths(tasks), [0, 1, 2]);
  });

  test('the order of the list does not matter', () => {
    assert.deepEqual(taskDepths(DIAMOND), [2, 1, 0, 1]);
  });

  test('an unknown upstream name and a missing list leave a task at the top', () => {
    assert.deepEqual(taskDepths([{ name: 'x', depends_on: ['nowhere'] }, { name: 'y' }]), [0, 0]);
  });

  test('a cycle ends instead of recursing forever', () => {
    const depths = taskDepths([
      { name: 'a', depends_on: ['b'] },
      { name: 'b', depends_on: ['a'] }
    ]);
    assert.equal(depths.length, 2);
    assert.ok(depths.every(depth => Number.isFinite(depth)));
  });

  test('every task of a repeated name (a loop iteration) counts as upstream', () => {
    const tasks: ILayoutTask[] = [
      { name: 'step' },
      { name: 'first' },
      { name: 'step', depends_on: ['first'] },
      { name: 'last', depends_on: ['step'] }
    ];
    assert.deepEqual(taskDepths(tasks), [0, 0, 1, 2]);
  });
});

describe('layoutGraph', () => {
  test('each layer is one row, and a row is as tall as a box plus its gap', () => {
    const layout = layoutGraph(DIAMOND);
    layout.depths.forEach((depth, index) => {
      assert.equal(layout.places[index].y, 1 + depth * (BOX_HEIGHT + GAP_Y));
    });
    assert.equal(layout.height, 3 * BOX_HEIGHT + 2 * GAP_Y + 2);
  });

  test('the picture is as wide as its widest row, and narrower rows are centred', () => {
    const layout = layoutGraph(DIAMOND);
    assert.equal(layout.width, 2 * BOX_WIDTH + GAP_X + 2);
    const centre = layout.width / 2;
    const prepare = layout.places[2];
    assert.equal(prepare.x + BOX_WIDTH / 2, centre);
    const middle = [layout.places[1], layout.places[3]];
    assert.equal((middle[0].x + middle[1].x + BOX_WIDTH) / 2, centre);
  });

  test('boxes of one row never overlap and keep the gap between them', () => {
    const tasks: ILayoutTask[] = ['a', 'b', 'c', 'd'].map(name => ({ name }));
    const xs = layoutGraph(tasks)
      .places.map(place => place.x)
      .sort((a, b) => a - b);
    for (let i = 1; i < xs.length; i++) {
      assert.equal(xs[i] - xs[i - 1], BOX_WIDTH + GAP_X);
    }
  });

  test('an arrow goes from every upstream task to the task that depends on it', () => {
    const { edges } = layoutGraph(DIAMOND);
    const named = edges.map(({ from, to }) => `${DIAMOND[from].name}->${DIAMOND[to].name}`);
    assert.deepEqual(
      named.sort(),
      ['evaluate->report', 'prepare->evaluate', 'prepare->train', 'train->report'].sort()
    );
  });

  test('a cycle draws no arrow upwards', () => {
    const tasks: ILayoutTask[] = [
      { name: 'a', depends_on: ['b'] },
      { name: 'b', depends_on: ['a'] }
    ];
    const layout = layoutGraph(tasks);
    for (const { from, to } of layout.edges) {
      assert.ok(layout.depths[from] < layout.depths[to]);
    }
  });

  test('an arrow runs from the bottom middle of one box to the top middle of the next', () => {
    const layout = layoutGraph([{ name: 'a' }, { name: 'b', depends_on: ['a'] }]);
    const [edge] = layout.edges;
    const numbers = edgePath(layout, edge)
      .match(/-?\d+(\.\d+)?/g)
      ?.map(Number);
    const a = layout.places[0];
    const b = layout.places[1];
    assert.ok(numbers);
    assert.deepEqual(numbers.slice(0, 2), [a.x + BOX_WIDTH / 2, a.y + BOX_HEIGHT]);
    assert.deepEqual(numbers.slice(-2), [b.x + BOX_WIDTH / 2, b.y]);
  });
});

describe('shortName', () => {
  test('a name that fits stays whole', () => {
    const name = 'x'.repeat(NAME_CHARACTERS);
    assert.equal(shortName(name), name);
  });

  test('a longer name is cut to fit, ending with an ellipsis', () => {
    const short = shortName('a-very-long-component-name-indeed');
    assert.equal(short.length, NAME_CHARACTERS);
    assert.ok(short.endsWith('…'));
    assert.ok('a-very-long-component-name-indeed'.startsWith(short.slice(0, -1)));
  });
});
