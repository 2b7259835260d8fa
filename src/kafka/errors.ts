// What the Kafka clients' errors say, for messages users see.

/** The message of an error and of its causes (@platformatic/kafka wraps the broker's in AggregateErrors). */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const walk = (e: unknown) => {
    if (!(e instanceof Error) || seen.has(e)) return;
    seen.add(e);
    if (!parts.includes(e.message)) parts.push(e.message);
    if (e instanceof AggregateError) for (const x of e.errors.slice(0, 2)) walk(x);
    walk((e as { cause?: unknown }).cause);
  };
  walk(err);
  return parts.length > 0 ? parts.join(': ') : String(err);
}
