/**
 * Polls `read` until `ok` holds or `ms` pass; the timeout names what was awaited, the last value
 * read and the last error, so a failing end-to-end test says where it stood.
 */
export async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  let error: unknown;
  while (Date.now() < end) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (e) {
      error = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out waiting for ${what}; last: ${JSON.stringify(last)} ${error ? String(error) : ''}`,
  );
}
