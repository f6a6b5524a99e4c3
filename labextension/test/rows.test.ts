/** Row state of the live tables, the log buffer, and what the doctor's findings group into. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { filterRows, KindTable } from '../src/cluster';
import { deleteOutcome } from '../src/deletion';
import { countErrors, findingKey, groupFindings, keyFindings, orderFindings } from '../src/doctor';
import { LogBuffer } from '../src/logs';
import type { Finding, KubeObject, KubeRow } from '../src/models.generated';

function row(name: string, fields: Partial<KubeRow> = {}): KubeRow {
  return {
    uid: `uid-${name}`,
    name,
    namespace: 'team',
    age: '1m',
    status: 'Running',
    health: 'ok',
    ...fields
  };
}

describe('KindTable', () => {
  test('a snapshot replaces every row and makes the table live', () => {
    const table = new KindTable('pods');
    table.applyRows({ id: 'a', type: 'snapshot', rows: [row('old')] });
    const change = table.applyRows({
      id: 'a',
      type: 'snapshot',
      rows: [row('a'), row('b')],
      columns: ['name', 'ready']
    });
    assert.deepEqual([...table.rows.values()].map(r => r.name).sort(), ['a', 'b']);
    assert.deepEqual(table.columns, ['name', 'ready']);
    assert.equal(table.state, 'live');
    assert.equal(table.loaded, true);
    assert.equal(change?.type, 'snapshot');
    assert.equal(change?.rows.length, 2);
  });

  test('a modified row replaces the row of its uid instead of doubling it', () => {
    const table = new KindTable('pods');
    table.applyRows({ id: 'a', type: 'snapshot', rows: [row('a')] });
    table.applyRows({ id: 'a', type: 'MODIFIED', row: row('a', { status: 'Failed' }) });
    assert.equal(table.rows.size, 1);
    assert.equal(table.rows.get('uid-a')?.status, 'Failed');
  });

  test('added rows join and deleted rows leave', () => {
    const table = new KindTable('pods');
    table.applyRows({ id: 'a', type: 'snapshot', rows: [row('a')] });
    table.applyRows({ id: 'a', type: 'ADDED', row: row('b') });
    table.applyRows({ id: 'a', type: 'DELETED', row: row('a') });
    assert.deepEqual([...table.rows.keys()], ['uid-b']);
  });

  test('a message without a row changes nothing', () => {
    const table = new KindTable('pods');
    assert.equal(table.applyRows({ id: 'a', type: 'ADDED' }), null);
    assert.equal(table.applyRows({ id: 'a', type: 'synced' }), null);
    assert.equal(table.rows.size, 0);
    assert.equal(table.loaded, false);
  });
});

describe('filterRows', () => {
  const rows = [
    row('web-2'),
    row('db-0', { status: 'CrashLoopBackOff' }),
    row('web-1', { status: 'Pending' })
  ];

  test('rows are shown by name', () => {
    assert.deepEqual(
      filterRows(rows, 'pods', '').map(r => r.name),
      ['db-0', 'web-1', 'web-2']
    );
  });

  test('the filter matches name or status, whatever the case and surrounding spaces', () => {
    assert.deepEqual(
      filterRows(rows, 'pods', '  WEB ').map(r => r.name),
      ['web-1', 'web-2']
    );
    assert.deepEqual(
      filterRows(rows, 'pods', 'crashloop').map(r => r.name),
      ['db-0']
    );
  });

  test('events are newest first, and only Warnings when asked', () => {
    const events = [
      row('e1', { type: 'Normal', time: '2026-01-01T00:00:01Z' }),
      row('e2', { type: 'Warning', time: '2026-01-01T00:00:03Z' }),
      row('e3', { type: 'Warning', time: '2026-01-01T00:00:02Z', message: 'Back-off pulling' })
    ];
    assert.deepEqual(
      filterRows(events, 'events', '').map(r => r.name),
      ['e2', 'e3', 'e1']
    );
    assert.deepEqual(
      filterRows(events, 'events', '', true).map(r => r.name),
      ['e2', 'e3']
    );
    assert.deepEqual(
      filterRows(events, 'events', 'pulling').map(r => r.name),
      ['e3']
    );
  });

  test('only Warnings applies to events alone', () => {
    assert.equal(filterRows(rows, 'pods', '', true).length, rows.length);
  });
});

describe('LogBuffer', () => {
  test('past its cap the oldest lines go and are counted', () => {
    const buffer = new LogBuffer(3);
    buffer.append(['1', '2']);
    buffer.append(['3', '4', '5'], 10);
    assert.deepEqual(buffer.lines, ['3', '4', '5']);
    assert.equal(buffer.dropped, 12);
  });

  test('a search matches lines whatever the case, the first one current', () => {
    const buffer = new LogBuffer();
    buffer.append(['Error: one', 'fine', 'another ERROR']);
    assert.equal(buffer.setSearch('error'), true);
    assert.deepEqual(buffer.matches, [0, 2]);
    assert.equal(buffer.matchIndex, 0);
    assert.equal(buffer.setSearch('error'), false);
  });

  test('moving between matches wraps around both ways', () => {
    const buffer = new LogBuffer();
    buffer.append(['x', 'x', 'x']);
    buffer.setSearch('x');
    buffer.moveMatch(-1);
    assert.equal(buffer.matchIndex, 2);
    buffer.moveMatch(1);
    assert.equal(buffer.matchIndex, 0);
  });

  test('new lines are searched as they come, and dropped matches leave with their lines', () => {
    const buffer = new LogBuffer(2);
    buffer.setSearch('hit');
    buffer.append(['hit a']);
    buffer.append(['miss', 'hit b']);
    assert.deepEqual(buffer.lines, ['miss', 'hit b']);
    assert.deepEqual(buffer.matches, [1]);
    assert.equal(buffer.lines[buffer.matches[buffer.matchIndex]], 'hit b');
  });

  test('clearing keeps the search for the lines that follow', () => {
    const buffer = new LogBuffer();
    buffer.setSearch('b');
    buffer.append(['a', 'b']);
    buffer.clear();
    assert.deepEqual([buffer.lines, buffer.matches, buffer.dropped], [[], [], 0]);
    buffer.append(['b']);
    assert.deepEqual(buffer.matches, [0]);
  });

  test('the text of a .log file ends each line', () => {
    const buffer = new LogBuffer();
    assert.equal(buffer.text(), '');
    buffer.append(['a', 'b']);
    assert.equal(buffer.text(), 'a\nb\n');
  });
});

function finding(
  kind: string,
  name: string,
  cause: string,
  severity: Finding['severity'],
  owners: Finding['owners'] = []
): Finding {
  return { object: { kind, name }, cause, severity, owners, fix: '', summary: '' };
}

describe('findings', () => {
  const deployment = { kind: 'Deployment', name: 'web' };
  const replicaSet = { kind: 'ReplicaSet', name: 'web-5d' };
  const findings = [
    finding('Pod', 'web-5d-a', 'ImagePullBackOff', 'error', [replicaSet, deployment]),
    finding('Pod', 'lonely', 'Pending', 'warning'),
    finding('Pod', 'web-5d-b', 'Restarting', 'warning', [replicaSet, deployment]),
    finding('Pod', 'web-5d-b', 'OOMKilled', 'error', [replicaSet, deployment])
  ];

  test('a key names the object and the cause', () => {
    assert.equal(findingKey(findings[0]), 'Pod/web-5d-a/ImagePullBackOff');
  });

  test('errors are counted', () => {
    assert.equal(countErrors(findings), 2);
  });

  test('findings group under their farthest owner, groups with errors first, errors first inside', () => {
    const groups = groupFindings(findings);
    assert.deepEqual(
      groups.map(g => [g.owner.name, g.errors, g.findings.length]),
      [
        ['web', 2, 3],
        ['lonely', 0, 1]
      ]
    );
    const severities = groups[0].findings.map(f => f.severity);
    assert.deepEqual(severities, ['error', 'error', 'warning']);
  });

  test('a second finding of one cause on one object gets its own key', () => {
    const twice = [findings[1], { ...findings[1], summary: 'again' }];
    assert.deepEqual(
      [...keyFindings(twice).keys()],
      ['Pod/lonely/Pending', 'Pod/lonely/Pending#2']
    );
  });

  test("the server's order: errors first, then by owner, object and cause", () => {
    const ordered = orderFindings([...findings].reverse()).map(findingKey);
    assert.deepEqual(ordered, [
      'Pod/web-5d-a/ImagePullBackOff',
      'Pod/web-5d-b/OOMKilled',
      // Among warnings the owner decides: Deployment/web sorts before Pod/lonely.
      'Pod/web-5d-b/Restarting',
      'Pod/lonely/Pending'
    ]);
  });
});

describe('deleteOutcome', () => {
  /** An object as the object route answers it. */
  const object = (kind: string, name: string, more: Partial<KubeObject> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind,
    ...more,
    metadata: { name, uid: `uid-${name}`, ...more.metadata }
  });
  const pod = (kind: string | null, phase = 'Running'): KubeObject =>
    object('Pod', 'p', {
      metadata: {
        name: 'p',
        uid: 'uid-p',
        ownerReferences: kind
          ? [{ apiVersion: 'v1', kind, name: 'owner', uid: 'u', controller: true }]
          : []
      },
      status: { phase }
    });

  test('a pod nothing owns is gone for good', () => {
    assert.equal(deleteOutcome(pod(null), null).fate, 'gone');
  });

  test("a ReplicaSet's pod is replaced, and the words name its Deployment", () => {
    const replicaSet = object('ReplicaSet', 'owner', {
      metadata: {
        name: 'owner',
        uid: 'u',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd', controller: true }
        ]
      }
    });
    const outcome = deleteOutcome(pod('ReplicaSet'), replicaSet);
    assert.equal(outcome.fate, 'replaced');
    assert.match(outcome.words, /Deployment web/);
  });

  test('a finished Job pod is gone; a running one is replaced while the Job needs more', () => {
    assert.equal(deleteOutcome(pod('Job', 'Succeeded'), null).fate, 'gone');
    const job = object('Job', 'owner', { spec: { completions: 3 }, status: { succeeded: 1 } });
    const outcome = deleteOutcome(pod('Job'), job);
    assert.equal(outcome.fate, 'replaced');
    assert.match(outcome.words, /2 successful pods/);
    const done = object('Job', 'owner', { spec: { completions: 1 }, status: { succeeded: 1 } });
    assert.equal(deleteOutcome(pod('Job'), done).fate, 'gone');
  });

  test('an owner of another kind decides for itself', () => {
    assert.equal(deleteOutcome(pod('Workflow'), null).fate, 'maybe');
  });
});
