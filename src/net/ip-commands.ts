/**
 * The kernel's routing and neighbour tables through the `ip` command (iproute2): TUN device
 * set-up, host routes into the TUN, proxy neighbour entries, policy rules. Commands run one at a
 * time in the order they were asked for (a release must not overtake the intercept before it);
 * `run` waits for one, `enqueue` lets the data path go on and reports a failure to `onError`.
 * Writes to /proc/sys go straight to the file (no sysctl binary needed).
 */

import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';

export class IpCommandError extends Error {
  override readonly name = 'IpCommandError';
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`ip ${args.join(' ')}: ${stderr.trim() || 'failed'}`);
  }
}

export interface IpCommandRunner {
  /** Runs `ip <args>` after everything queued before it; rejects with an IpCommandError. */
  run(args: readonly string[]): Promise<void>;
  /**
   * Queues `ip <args>`; a failure goes to onError (the caller is on the data path and can't wait).
   * `gone: 'ok'` (for deletions) treats "already gone" answers as success.
   */
  enqueue(args: readonly string[], options?: { gone?: 'ok' }): void;
  /** Waits for every queued command. */
  settled(): Promise<void>;
}

/** What iproute2 says when the route, rule, address or device to delete is not there. */
const ALREADY_GONE =
  /No such process|No such file or directory|Cannot find device|Cannot assign requested address/;

export class IpCommands implements IpCommandRunner {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly onError: (error: Error) => void = () => {},
    private readonly binary = 'ip',
  ) {}

  run(args: readonly string[]): Promise<void> {
    const next = this.tail.then(() => this.exec(args));
    this.tail = next.catch(() => {});
    return next;
  }

  enqueue(args: readonly string[], options: { gone?: 'ok' } = {}): void {
    this.run(args).catch((e: Error) => {
      if (options.gone === 'ok' && e instanceof IpCommandError && ALREADY_GONE.test(e.stderr)) return;
      this.onError(e);
    });
  }

  settled(): Promise<void> {
    return this.tail;
  }

  private exec(args: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(this.binary, [...args], { timeout: 10_000 }, (error, _stdout, stderr) => {
        if (error) {
          const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
          reject(
            new IpCommandError(
              args,
              missing ? `${this.binary} not found (install iproute2)` : String(stderr),
            ),
          );
        } else resolve();
      });
    });
  }
}

/** Reads a /proc/sys value (`net/ipv4/ip_forward`), trimmed; undefined when it does not exist. */
export async function readSysctl(key: string): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/sys/${key}`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

export async function writeSysctl(key: string, value: string | number): Promise<void> {
  await writeFile(`/proc/sys/${key}`, String(value));
}
