/** The Doctor's views: the sidebar section of findings by owner, and one finding as panels show it. */

import { Clipboard } from '@jupyterlab/apputils';
import { copyIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { DoctorModel, findingKey, FindingObject, IFindingGroup } from './doctor';
import { formatAge, formatTime } from './format';
import type { Finding } from './models.generated';
import type { IObjectRef } from './object';
import type { IDoctorBody } from './sidebar';

/** How long the copy button says "Copied". */
const COPIED_MS = 2000;

/** The sidebar's Doctor section, following its model. */
export class DoctorSection implements IDoctorBody {
  constructor(
    readonly model: DoctorModel,
    private readonly _open: (ref: IObjectRef) => void
  ) {}

  get changed() {
    return this.model.changed;
  }

  get errors(): number {
    return this.model.errors;
  }

  setVisible(visible: boolean): void {
    this.model.visible = visible;
  }

  render(): JSX.Element | null {
    return <DoctorView model={this.model} onOpen={this._open} />;
  }
}

/** "2 errors", "1 error", "no errors". */
export function errorWords(count: number): string {
  return count === 0 ? 'no errors' : `${count} error${count === 1 ? '' : 's'}`;
}

/** What is wrong in the namespace: findings grouped by owner, most severe first. */
export function DoctorView(props: {
  model: DoctorModel;
  onOpen: (ref: IObjectRef) => void;
}): JSX.Element | null {
  const { model } = props;
  if (!model.configured) {
    return null;
  }
  const report = model.report;
  const errors = model.errors;
  const warnings = report ? report.findings.length - errors : 0;
  return (
    <section
      className="jp-mlops-section jp-mlops-doctor"
      data-testid="mlops-section-doctor"
      aria-labelledby="jp-mlops-heading-doctor"
      aria-busy={model.loading}
      data-live={model.live}
    >
      <h3 className="jp-mlops-section-title jp-mlops-doctor-title" id="jp-mlops-heading-doctor">
        Doctor
        {report && (
          <span
            className="jp-mlops-doctor-count"
            data-testid="mlops-doctor-errors"
            data-count={errors}
            title={`${errorWords(errors)} and ${warnings} warning${warnings === 1 ? '' : 's'} in ${model.namespace}`}
          >
            {errorWords(errors)}
          </span>
        )}
        <button
          type="button"
          className="jp-mlops-doctor-again jp-Button jp-mod-minimal"
          data-testid="mlops-doctor-refresh"
          title="Examine the namespace again now"
          disabled={model.loading}
          onClick={() => model.refresh()}
        >
          Check
        </button>
      </h3>
      {model.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-doctor-error">
          {model.error.message}
          {report && ' Showing the last findings.'}
        </div>
      )}
      {!report && !model.error && (
        <div className="jp-mlops-loading" data-testid="mlops-doctor-loading">
          Examining {model.namespace || 'the namespace'}…
        </div>
      )}
      {report && report.findings.length === 0 && (
        <div className="jp-mlops-muted" data-testid="mlops-doctor-healthy">
          Nothing wrong found in {report.namespace}.
        </div>
      )}
      {model.groups.map(group => (
        <FindingGroup
          key={`${group.owner.kind}/${group.owner.name}`}
          group={group}
          refOf={object => model.refOf(object)}
          onOpen={props.onOpen}
        />
      ))}
      {(report?.unreadable ?? []).map(u => (
        <p
          key={u.kind}
          className="jp-mlops-doctor-unreadable jp-mlops-muted"
          data-testid="mlops-doctor-unreadable"
          data-kind={u.kind}
        >
          Could not read {u.kind}: {u.reason}. {u.limits}
        </p>
      ))}
    </section>
  );
}

/** One owner and the findings under it. */
function FindingGroup(props: {
  group: IFindingGroup;
  refOf: (object: FindingObject) => IObjectRef | null;
  onOpen: (ref: IObjectRef) => void;
}): JSX.Element {
  const { group } = props;
  const owned = group.findings.some(
    f => f.object.kind !== group.owner.kind || f.object.name !== group.owner.name
  );
  return (
    <div
      className="jp-mlops-doctor-group"
      data-testid="mlops-doctor-group"
      data-owner={`${group.owner.kind}/${group.owner.name}`}
    >
      {owned && (
        <div className="jp-mlops-doctor-owner">
          <ObjectLink object={group.owner} refOf={props.refOf} onOpen={props.onOpen} />
        </div>
      )}
      {group.findings.map(finding => (
        <FindingView
          key={findingKey(finding)}
          finding={finding}
          refOf={props.refOf}
          onOpen={props.onOpen}
        />
      ))}
    </div>
  );
}

/** An object's kind and name; a link to its panel when the cluster serves its kind. */
function ObjectLink(props: {
  object: FindingObject;
  refOf?: (object: FindingObject) => IObjectRef | null;
  onOpen?: (ref: IObjectRef) => void;
}): JSX.Element {
  const { object, onOpen } = props;
  const ref = props.refOf?.(object) ?? null;
  const words = (
    <>
      <span className="jp-mlops-muted">{object.kind}</span> {object.name}
    </>
  );
  if (!ref || !onOpen) {
    return (
      <span className="jp-mlops-finding-object" data-testid="mlops-finding-object">
        {words}
      </span>
    );
  }
  return (
    <button
      type="button"
      className="jp-mlops-finding-object jp-mlops-link"
      data-testid="mlops-finding-object"
      data-kind={ref.kind}
      data-name={ref.name}
      title={`Open ${object.kind} ${object.name}`}
      onClick={() => onOpen(ref)}
    >
      {words}
    </button>
  );
}

/**
 * One finding: what is wrong, how to fix it (copyable), what it rests on and how sure it is.
 * Without `onOpen` the object is named but not linked (a panel about that very object).
 */
export function FindingView(props: {
  finding: Finding;
  refOf?: (object: FindingObject) => IObjectRef | null;
  onOpen?: (ref: IObjectRef) => void;
  /** Show the evidence unfolded (a main-area panel has the room). */
  evidenceOpen?: boolean;
}): JSX.Element {
  const { finding } = props;
  const evidence = finding.evidence ?? [];
  const now = Date.now();
  return (
    <article
      className="jp-mlops-finding"
      data-testid="mlops-finding"
      data-severity={finding.severity}
      data-cause={finding.cause}
      data-object={`${finding.object.kind}/${finding.object.name}`}
    >
      <div className="jp-mlops-finding-head">
        <span
          className="jp-mlops-health"
          data-health={finding.severity === 'error' ? 'error' : 'warning'}
          data-testid="mlops-finding-severity"
        >
          {finding.severity}
        </span>
        <ObjectLink object={finding.object} refOf={props.refOf} onOpen={props.onOpen} />
        {finding.certainty === 'likely' && (
          <span
            className="jp-mlops-finding-likely"
            data-testid="mlops-finding-likely"
            title="The cause is inferred from what could be read, not stated by the cluster"
          >
            likely
          </span>
        )}
      </div>
      <p className="jp-mlops-finding-summary" data-testid="mlops-finding-summary">
        {finding.summary}
      </p>
      <FixBlock fix={finding.fix} />
      {evidence.length > 0 && (
        <details className="jp-mlops-finding-evidence" open={props.evidenceOpen}>
          <summary data-testid="mlops-finding-evidence-toggle">
            Evidence ({evidence.length})
          </summary>
          <ul>
            {evidence.map((e, index) => (
              <li key={index} data-testid="mlops-finding-evidence" data-source={e.source}>
                <span className="jp-mlops-evidence-source">{e.source}</span>
                {e.time && (
                  <time
                    className="jp-mlops-muted"
                    dateTime={e.time}
                    title={formatTime(e.time, now)}
                  >
                    {' '}
                    {formatAge(e.time, now)} ago
                  </time>
                )}
                <blockquote className="jp-mlops-evidence-text">{e.text}</blockquote>
              </li>
            ))}
          </ul>
        </details>
      )}
    </article>
  );
}

/** The fix as a code block, with a button that copies it. */
function FixBlock(props: { fix: string }): JSX.Element {
  const [copied, setCopied] = React.useState(false);
  React.useEffect(() => {
    if (!copied) {
      return;
    }
    const timer = window.setTimeout(() => setCopied(false), COPIED_MS);
    return () => window.clearTimeout(timer);
  }, [copied]);
  const copy = (): void => {
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(props.fix).then(
        () => setCopied(true),
        () => {
          // Refused (no permission, not a secure page): JupyterLab's own copy still works.
          Clipboard.copyToSystem(props.fix);
          setCopied(true);
        }
      );
    } else {
      Clipboard.copyToSystem(props.fix);
      setCopied(true);
    }
  };
  return (
    <div className="jp-mlops-finding-fix">
      <div className="jp-mlops-finding-fix-bar">
        <span className="jp-mlops-label">Fix</span>
        <button
          type="button"
          className="jp-mlops-copy jp-Button jp-mod-minimal"
          data-testid="mlops-finding-copy"
          data-copied={copied}
          title="Copy the fix"
          aria-label="Copy the fix"
          onClick={copy}
        >
          <copyIcon.react tag="span" />
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre className="jp-mlops-finding-fix-code">
        <code data-testid="mlops-finding-fix">{props.fix}</code>
      </pre>
    </div>
  );
}
