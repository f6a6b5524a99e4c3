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

/** A value longer than this many characters is summarised, with a way to expand it. */
export const SHORT_VALUE_CHARS = 60;

/** How a value reads in a panel: its short form, and the whole of it when that is long. */
export interface IValueSummary {
  /** The value itself when short; else its type, length and first items, e.g. `list of 200 numbers: [0, 1.47, 0.005, …]`. */
  short: string;
  /** The whole value, pretty-printed; null when `short` already shows all of it. */
  full: string | null;
}

/** A value as compact JSON-like text: nested lists keep their brackets, strings stay bare. */
export function compactValue(value: unknown): string {
  if (Array.isArray(value) || (value !== null && typeof value === 'object')) {
    return inline(value);
  }
  return asText(value);
}

/** JSON with a space after each comma and colon, strings quoted inside lists and dicts. */
function inline(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(inline).join(', ')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`);
    return `{${entries.join(', ')}}`;
  }
  return JSON.stringify(value) ?? asText(value);
}

/**
 * Summarise a long value by its type, length and head; short values are shown whole.
 * A string holding a JSON list or object (as MLflow stores list params) is read as one.
 */
export function summariseValue(value: unknown): IValueSummary {
  const whole = compactValue(value);
  if (whole.length <= SHORT_VALUE_CHARS) {
    return { short: whole, full: null };
  }
  const parsed = typeof value === 'string' ? parseStructured(value) : value;
  const full = typeof parsed === 'string' ? parsed : (JSON.stringify(parsed, null, 1) ?? whole);
  return { short: describe(parsed), full };
}

/** `list of 200 numbers: [0, 1.47, …]`, `dict of 12 keys: {lr: 0.1, …}`, `text of 4,213 characters: …`. */
function describe(value: unknown): string {
  if (Array.isArray(value)) {
    const head = value.slice(0, 3).map(item => clip(compactValue(item), 18));
    const more = value.length > 3 ? ', …' : '';
    return `list of ${value.length.toLocaleString('en')} ${itemsWord(value)}: [${head.join(', ')}${more}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const head = entries.slice(0, 3).map(([k, v]) => `${k}: ${clip(compactValue(v), 12)}`);
    const more = entries.length > 3 ? ', …' : '';
    return `dict of ${entries.length.toLocaleString('en')} key${entries.length === 1 ? '' : 's'}: {${head.join(', ')}${more}}`;
  }
  const text = compactValue(value);
  return `text of ${text.length.toLocaleString('en')} characters: ${clip(text, 32)}`;
}

/** What a list holds, in a word: numbers, strings, lists, dicts or items. */
function itemsWord(items: unknown[]): string {
  const kinds = new Set(
    items.map(item =>
      Array.isArray(item)
        ? 'lists'
        : item !== null && typeof item === 'object'
          ? 'dicts'
          : typeof item === 'number'
            ? 'numbers'
            : typeof item === 'string'
              ? 'strings'
              : typeof item === 'boolean'
                ? 'booleans'
                : 'items'
    )
  );
  return kinds.size === 1 ? [...kinds][0] : 'items';
}

/** The list or object a string holds as JSON (or Python's repr of numbers), else the string. */
function parseStructured(text: string): unknown {
  const trimmed = text.trim();
  if (!/^[[{(]/.test(trimmed)) {
    return text;
  }
  const jsonish = trimmed
    .replace(/^\((.*)\)$/s, '[$1]')
    .replace(/\bNone\b/g, 'null')
    .replace(/\bTrue\b/g, 'true')
    .replace(/\bFalse\b/g, 'false')
    .replace(/'/g, '"');
  try {
    return JSON.parse(jsonish);
  } catch {
    return text;
  }
}

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
