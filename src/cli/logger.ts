/**
 * pino logs: JSON lines by default (for journald, log shippers, tests); on a terminal a short
 * human line per event: `14:02:11.120 INFO  mn  BU seq 1000 via ipv4 203.0.113.10`.
 */

import pino, { type Logger } from 'pino';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Formats one pino JSON line for a person. */
export function prettyLine(line: string): string {
  let o: { time?: number; level?: number; actor?: string; msg?: string };
  try {
    o = JSON.parse(line) as typeof o;
  } catch {
    return line;
  }
  const t = new Date(o.time ?? Date.now()).toISOString().slice(11, 23);
  const level = (LEVEL_NAMES[o.level ?? 30] ?? 'INFO').padEnd(5);
  return `${t} ${level} ${(o.actor ?? '').padEnd(3)} ${o.msg ?? ''}\n`;
}

export function createLogger(level: string, pretty = Boolean(process.stderr.isTTY)): Logger {
  if (!pretty) return pino({ level, base: undefined }, pino.destination(2));
  return pino(
    { level, base: undefined },
    {
      write: (line: string) => {
        process.stderr.write(prettyLine(line));
      },
    },
  );
}
