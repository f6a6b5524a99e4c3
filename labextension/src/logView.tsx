/** The log viewer: its controls and a virtualised list that draws only the lines in view. */

import * as React from 'react';

import { LogModel, MAX_LOG_LINES } from './logs';

/** Height of one line in pixels; the stylesheet gives lines exactly this height. */
export const LINE_HEIGHT = 18;

/** Lines drawn above and below the visible ones, so a quick scroll shows no gap. */
const OVERSCAN = 30;

const STATE_WORDS: Record<string, string> = {
  loading: 'Reading the log…',
  following: 'Following: new lines appear as the container writes them.',
  ended: 'The container stopped: this is the whole log.',
  snapshot: 'Not following: this is the log as it was when read.',
  failed: 'The log cannot be read.'
};

/** Controls and lines of one pod's log. */
export function LogPanel(props: { model: LogModel }): JSX.Element {
  const { model } = props;
  return (
    <div className="jp-mlops-logs" data-testid="mlops-logs" data-state={model.state}>
      <LogControls model={model} />
      <div className="jp-mlops-log-status">
        <span data-testid="mlops-log-state">
          {model.previous && model.state === 'snapshot'
            ? 'The log of the run before the last restart.'
            : STATE_WORDS[model.state]}
        </span>
        {model.dropped > 0 && (
          <span className="jp-mlops-log-dropped" data-testid="mlops-log-dropped">
            {' '}
            {model.dropped.toLocaleString()} older line{model.dropped === 1 ? ' was' : 's were'}{' '}
            dropped: the viewer keeps the last {MAX_LOG_LINES.toLocaleString()}.
          </span>
        )}
      </div>
      {model.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-log-error">
          {model.error}
        </div>
      )}
      <LogLines model={model} />
    </div>
  );
}

function LogControls(props: { model: LogModel }): JSX.Element {
  const { model } = props;
  const matches = model.matches.length;
  const download = (): void => {
    const blob = new Blob([model.text()], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = model.fileName;
    document.body.appendChild(link);
    link.click();
    link.remove();
    // The download has its own copy once started.
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <div className="jp-mlops-log-controls">
      {model.containers.length > 1 && (
        <select
          className="jp-mod-styled"
          data-testid="mlops-log-container"
          aria-label="Container"
          value={model.container ?? ''}
          onChange={event => model.setContainer(event.target.value)}
        >
          {model.containers.map(name => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      )}
      <label title="Stream new lines as the container writes them">
        <input
          type="checkbox"
          data-testid="mlops-log-follow"
          checked={model.following && !model.previous}
          disabled={model.previous}
          onChange={event => model.setFollowing(event.target.checked)}
        />{' '}
        Follow
      </label>
      <label title="The log of the container's run before its last restart">
        <input
          type="checkbox"
          data-testid="mlops-log-previous"
          checked={model.previous}
          onChange={event => model.setPrevious(event.target.checked)}
        />{' '}
        Previous
      </label>
      <input
        type="search"
        className="jp-mod-styled jp-mlops-log-search"
        data-testid="mlops-log-search"
        placeholder="Search the log"
        aria-label="Search the log"
        value={model.search}
        onChange={event => model.setSearch(event.target.value)}
        onKeyDown={event => {
          if (event.key === 'Enter') {
            model.moveMatch(event.shiftKey ? -1 : 1);
          }
        }}
      />
      {model.search && (
        <span className="jp-mlops-muted" data-testid="mlops-log-matches">
          {matches === 0 ? 'no match' : `${model.matchIndex + 1} of ${matches}`}
        </span>
      )}
      <button
        type="button"
        className="jp-Button jp-mod-minimal jp-mlops-small-button"
        aria-label="Previous match"
        title="Previous match (Shift+Enter)"
        disabled={matches === 0}
        onClick={() => model.moveMatch(-1)}
      >
        ↑
      </button>
      <button
        type="button"
        className="jp-Button jp-mod-minimal jp-mlops-small-button"
        aria-label="Next match"
        title="Next match (Enter)"
        disabled={matches === 0}
        onClick={() => model.moveMatch(1)}
      >
        ↓
      </button>
      <button
        type="button"
        className="jp-Button jp-mod-styled jp-mlops-small-button"
        data-testid="mlops-log-download"
        title={`Save these lines as ${model.fileName}`}
        disabled={model.lines.length === 0}
        onClick={download}
      >
        Download .log
      </button>
    </div>
  );
}

/**
 * The lines, drawn only where the user looks: a fixed-height row per line inside a spacer as
 * tall as the whole log, so 100,000 lines scroll as smoothly as 100.
 */
function LogLines(props: { model: LogModel }): JSX.Element {
  const { model } = props;
  const scroller = React.useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = React.useState(0);
  const [height, setHeight] = React.useState(400);
  // Whether the view sits at the bottom: then it stays there as lines arrive.
  const atBottom = React.useRef(true);
  const total = model.lines.length;
  const current = model.matchIndex >= 0 ? model.matches[model.matchIndex] : -1;

  React.useLayoutEffect(() => {
    const node = scroller.current;
    if (!node) {
      return;
    }
    const observer = new ResizeObserver(() => setHeight(node.clientHeight));
    observer.observe(node);
    setHeight(node.clientHeight);
    return () => observer.disconnect();
  }, []);

  React.useLayoutEffect(() => {
    const node = scroller.current;
    if (node && atBottom.current && current < 0) {
      node.scrollTop = node.scrollHeight;
      setScrollTop(node.scrollTop);
    }
  }, [model.version]);

  React.useLayoutEffect(() => {
    const node = scroller.current;
    if (node && current >= 0) {
      node.scrollTop = Math.max(0, current * LINE_HEIGHT - node.clientHeight / 2);
      atBottom.current = false;
      setScrollTop(node.scrollTop);
    }
  }, [current, model.search]);

  const onScroll = (): void => {
    const node = scroller.current;
    if (node) {
      atBottom.current = node.scrollTop + node.clientHeight >= node.scrollHeight - LINE_HEIGHT;
      setScrollTop(node.scrollTop);
    }
  };

  const first = Math.max(0, Math.floor(scrollTop / LINE_HEIGHT) - OVERSCAN);
  const last = Math.min(total, Math.ceil((scrollTop + height) / LINE_HEIGHT) + OVERSCAN);
  const words = model.search.toLowerCase();
  const rows: JSX.Element[] = [];
  for (let index = first; index < last; index++) {
    const line = model.lines[index];
    rows.push(
      <div
        key={index}
        className={'jp-mlops-log-line' + (index === current ? ' jp-mod-current' : '')}
        data-testid="mlops-log-line"
        data-line={index + model.dropped + 1}
        style={{ top: index * LINE_HEIGHT, height: LINE_HEIGHT, lineHeight: `${LINE_HEIGHT}px` }}
      >
        <span className="jp-mlops-log-number" aria-hidden="true">
          {index + model.dropped + 1}
        </span>
        <Highlighted text={line} words={words} />
      </div>
    );
  }
  return (
    <div
      className="jp-mlops-log-lines"
      data-testid="mlops-log-lines"
      data-total={total}
      ref={scroller}
      onScroll={onScroll}
      tabIndex={0}
      role="log"
      aria-label="Log lines"
    >
      <div className="jp-mlops-log-spacer" style={{ height: total * LINE_HEIGHT }}>
        {rows}
      </div>
      {total === 0 && model.state !== 'loading' && (
        <div className="jp-mlops-muted jp-mlops-log-empty" data-testid="mlops-log-empty">
          The log is empty.
        </div>
      )}
    </div>
  );
}

/** A line with each occurrence of `words` (lower case) marked. */
function Highlighted(props: { text: string; words: string }): JSX.Element {
  const { text, words } = props;
  if (!words) {
    return <>{text}</>;
  }
  const lower = text.toLowerCase();
  const parts: JSX.Element[] = [];
  let start = 0;
  let found = lower.indexOf(words);
  while (found >= 0) {
    parts.push(<React.Fragment key={`t${start}`}>{text.slice(start, found)}</React.Fragment>);
    parts.push(
      <mark key={`m${found}`} className="jp-mlops-log-match">
        {text.slice(found, found + words.length)}
      </mark>
    );
    start = found + words.length;
    found = lower.indexOf(words, start);
  }
  parts.push(<React.Fragment key={`t${start}`}>{text.slice(start)}</React.Fragment>);
  return <>{parts}</>;
}
