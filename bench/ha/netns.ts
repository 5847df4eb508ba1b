/**
 * The benchmark's own network namespace: only a loopback interface, with the home agent's
 * IPv4 address (192.0.2.1, RFC 5737) on it, so the HA and the load generator talk over loopback
 * and nothing else on the machine (the lab, other tests) sees or disturbs their traffic.
 */

import { execFileSync } from 'node:child_process';

export const HA_IPV4 = '192.0.2.1';

export interface Netns {
  readonly name: string;
  /** argv prefix that runs a command inside the namespace. */
  exec(argv: readonly string[]): string[];
  remove(): void;
}

export function createNetns(name: string): Netns {
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  try {
    ip('netns', 'del', name);
  } catch {
    // Not there from an earlier run: fine.
  }
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  ip('-n', name, 'addr', 'add', `${HA_IPV4}/32`, 'dev', 'lo');
  return {
    name,
    exec: (argv) => ['ip', 'netns', 'exec', name, ...argv],
    remove: () => {
      try {
        ip('netns', 'del', name);
      } catch {
        // Already gone.
      }
    },
  };
}
