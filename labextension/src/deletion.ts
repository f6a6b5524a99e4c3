/** What deleting a pod will really do, judged from its owner, in the words of the delete dialog. */

import type { KubeObject, KubeOwnerReference } from './models.generated';

/** The owner that decides a pod's fate: its controller, else the first owner listed. */
export function controllerOf(pod: KubeObject): KubeOwnerReference | null {
  const owners = pod.metadata?.ownerReferences ?? [];
  return owners.find(owner => owner.controller) ?? owners[0] ?? null;
}

/** What happens to the pod once deleted: whether something makes a new one, and what. */
export interface IDeleteOutcome {
  /** `replaced`: a new pod takes its place; `gone`: nothing does; `maybe`: its owner decides. */
  fate: 'replaced' | 'gone' | 'maybe';
  words: string;
}

/**
 * What deleting `pod` does. `owner` is the controller's object when it could be read (the
 * ReplicaSet, the Job…), so the words can name a Deployment or count a Job's completions.
 */
export function deleteOutcome(pod: KubeObject, owner: KubeObject | null): IDeleteOutcome {
  const ref = controllerOf(pod);
  if (!ref) {
    return {
      fate: 'gone',
      words: 'Nothing owns it, so no new pod replaces it: it is gone for good.'
    };
  }
  switch (ref.kind) {
    case 'ReplicaSet': {
      const deployment = owner ? controllerOf(owner) : null;
      const who =
        deployment?.kind === 'Deployment'
          ? `Its Deployment ${deployment.name} (through ReplicaSet ${ref.name})`
          : `Its ReplicaSet ${ref.name}`;
      return { fate: 'replaced', words: `${who} makes a new pod in its place.` };
    }
    case 'StatefulSet':
      return {
        fate: 'replaced',
        words: `Its StatefulSet ${ref.name} makes a new pod of the same name in its place.`
      };
    case 'DaemonSet': {
      const node = typeof pod.spec?.nodeName === 'string' ? ` (${pod.spec.nodeName})` : '';
      return {
        fate: 'replaced',
        words: `Its DaemonSet ${ref.name} makes a new pod on the same node${node}.`
      };
    }
    case 'Job':
      return jobOutcome(pod, ref.name, owner);
    default:
      return {
        fate: 'maybe',
        words: `It belongs to ${ref.kind} ${ref.name}, which decides whether a new pod replaces it.`
      };
  }
}

/** A Job makes a new pod only for a pod still running while the Job still needs completions. */
function jobOutcome(pod: KubeObject, name: string, job: KubeObject | null): IDeleteOutcome {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    return {
      fate: 'gone',
      words:
        `It has ${phase === 'Succeeded' ? 'succeeded' : 'failed'} already, and its Job ${name} ` +
        'does not run a finished pod again: it is gone for good, with its log.'
    };
  }
  if (!job) {
    return {
      fate: 'maybe',
      words: `Its Job ${name} makes a new pod only if it still needs one.`
    };
  }
  const conditions = (job.status?.conditions ?? []) as Array<{ type?: string; status?: string }>;
  const finished = conditions.find(
    c => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True'
  );
  if (finished) {
    return {
      fate: 'gone',
      words: `Its Job ${name} has ${finished.type === 'Complete' ? 'completed' : 'failed'}: no new pod replaces it.`
    };
  }
  const completions = numberOr(job.spec?.completions, 1);
  const succeeded = numberOr(job.status?.succeeded, 0);
  const needed = Math.max(0, completions - succeeded);
  if (needed === 0) {
    return { fate: 'gone', words: `Its Job ${name} needs no more pods: no new pod replaces it.` };
  }
  return {
    fate: 'replaced',
    words:
      `Its Job ${name} still needs ${needed} successful pod${needed === 1 ? '' : 's'}, ` +
      'so it makes a new pod in its place.'
  };
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
