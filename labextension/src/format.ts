/** Words for times and table cells, as Kubernetes tables show them. */

/** `5s`, `3m`, `2h`, `4d` from an RFC 3339 time to `now` (milliseconds); '' if unreadable. */
export function formatAge(timestamp: string, now: number): string {
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) {
    return '';
  }
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  // A smaller unit stays up to twice the larger one (90m, then 2h), as cluster tables read.
  if (seconds >= 2 * 86400) {
    return `${Math.floor(seconds / 86400)}d`;
  }
  if (seconds >= 2 * 3600) {
    return `${Math.floor(seconds / 3600)}h`;
  }
  if (seconds >= 60) {
    return `${Math.floor(seconds / 60)}m`;
  }
  return `${seconds}s`;
}

/** A table cell's value as text: lists joined, booleans as yes or no, nothing as ''. */
export function asText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (Array.isArray(value)) {
    return value.map(asText).join(', ');
  }
  if (typeof value === 'boolean') {
    return value ? 'yes' : 'no';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    return value.toString();
  }
  return JSON.stringify(value) ?? '';
}

/** A time in the user's locale with how long ago it was, e.g. `12:03:10 (5m ago)`. */
export function formatTime(timestamp: string | null | undefined, now: number): string {
  if (!timestamp) {
    return '';
  }
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) {
    return timestamp;
  }
  return `${new Date(then).toLocaleString()} (${formatAge(timestamp, now)} ago)`;
}
