// What the Kafka clients' errors say, for messages users see.

/** Wrappers @platformatic/kafka puts around the error that happened; they say nothing more. */
const WRAPPER = /^(?:[\w ]+ failed \d+ times|Cannot connect to any broker|Producing messages failed|Connection to \S+ failed)$/;

/**
 * The message of an error and of its causes (@platformatic/kafka wraps the broker's in
 * AggregateErrors and retries): the causes that say something, and how often it was tried.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  let tries = 0;
  const walk = (e: unknown) => {
    if (!(e instanceof Error) || seen.has(e)) return;
    seen.add(e);
    const m = e.message.replace(/\.+$/, '');
    const t = /failed (\d+) times/.exec(m);
    if (t) tries = Math.max(tries, Number(t[1]));
    if (!WRAPPER.test(m) && !parts.includes(m)) parts.push(m);
    if (e instanceof AggregateError) for (const x of e.errors.slice(0, 2)) walk(x);
    walk((e as { cause?: unknown }).cause);
  };
  walk(err);
  if (parts.length === 0) parts.push(err instanceof Error ? err.message : String(err));
  return parts.join(': ') + (tries > 1 ? ` (tried ${tries} times)` : '');
}
