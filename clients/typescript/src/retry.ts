/**
 * When to retry a refused request, and how long to wait first.
 *
 * 429 and 503 are retried, waiting what `Retry-After` says — but never longer than
 * `maxWaitSeconds`: a longer wait throws at once with `retryAfter` set, so the caller decides.
 */

export interface RetryPolicy {
  /** Extra attempts at most (0 disables retries). */
  maxRetries: number;
  /** The longest single wait honoured, in seconds. */
  maxWaitSeconds: number;
  /** Wait before retry n (from 0) without Retry-After: backoffSeconds * 2^n. */
  backoffSeconds: number;
  statuses: readonly number[];
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 3,
  maxWaitSeconds: 30,
  backoffSeconds: 0.5,
  statuses: [429, 503],
};

/** An HTTP date in any of the three forms RFC 9110 lets a recipient accept. */
const HTTP_DATE = [
  /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/, // IMF-fixdate
  /^[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/, // RFC 850
  /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/, // asctime
];

/**
 * Seconds to wait from a Retry-After value (delta-seconds or an HTTP date).
 *
 * Undefined for anything else: a negative number, "soon 1" or other prose are not waits,
 * and `Date.parse` would read some of them as dates, making the client retry at once and
 * hammer a server that asked for a pause.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^[0-9]+(\.[0-9]+)?$/.test(text)) return Number(text);
  if (!HTTP_DATE.some((form) => form.test(text))) return undefined;
  const when = Date.parse(text.endsWith("GMT") ? text : `${text} GMT`);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, (when - now) / 1000);
}

/** Seconds to wait before retry number `attempt + 1`, or undefined to give up now. */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  status: number,
  headers: Headers,
): number | undefined {
  if (!policy.statuses.includes(status) || attempt >= policy.maxRetries) return undefined;
  const retryAfter = parseRetryAfter(headers.get("retry-after"));
  const wait = retryAfter ?? policy.backoffSeconds * 2 ** attempt;
  return wait > policy.maxWaitSeconds ? undefined : wait;
}
