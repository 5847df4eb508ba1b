/**
 * The real LinkMonitor, on iproute2. The current state comes from `ip -j addr show` (JSON);
 * changes come from `ip -o monitor address link`, one text line per event. `ip monitor` ignores
 * `-j` on iproute2 6.1 (checked: it prints text anyway), so the text lines are parsed, and the
 * parser is written for the forms seen across versions (`Deleted ` prefix, `[ADDR]` labels).
 *
 * What the monitor reports (the LinkEvent facts):
 * - ADDRESS.ADDED for an address that is usable: present, not tentative (IPv6 DAD still running) or
 *   dadfailed, on a link that is up (UP and LOWER_UP). A tentative address is reported when the
 *   kernel re-announces it after DAD. A new prefix length for a known address is a new ADDED.
 * - ADDRESS.REMOVED for a reported address that goes away (or turns tentative again).
 * - LINK.DOWN when a link that was up loses UP or carrier, or is deleted. The link's addresses
 *   count as gone without REMOVED events (LINK.DOWN says so; the movement machine drops them).
 *   When the link comes back its remaining addresses (IPv4 ones survive a link down in Linux) are
 *   reported again as ADDED.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { isIP } from 'node:net';
import { createInterface } from 'node:readline';
import type { Family, LinkEvent, LinkMonitor } from './ports.js';

export interface IpAddress {
  readonly ifname: string;
  readonly family: Family;
  readonly address: string;
  readonly prefixLength: number;
  /** IPv6 DAD in progress or failed: not usable as a source address. */
  readonly tentative: boolean;
}

export interface IpLink {
  readonly ifname: string;
  /** UP and LOWER_UP and not NO-CARRIER (administratively up with carrier). */
  readonly up: boolean;
}

export interface IpSnapshot {
  readonly links: readonly IpLink[];
  readonly addresses: readonly IpAddress[];
  /** Entries that could not be read (skipped). */
  readonly errors: number;
}

export type IpMonitorRecord =
  | ({ readonly kind: 'address'; readonly deleted: boolean } & IpAddress)
  | ({ readonly kind: 'link'; readonly deleted: boolean } & IpLink)
  /** A line that carries no event (blank, `Timestamp:`). */
  | { readonly kind: 'ignored' };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

// `NO-CARRIER,BROADCAST,MULTICAST,UP,LOWER_UP` is seen on a veth whose peer is coming up.
const linkUp = (flags: readonly string[]) =>
  flags.includes('UP') && flags.includes('LOWER_UP') && !flags.includes('NO-CARRIER');

function validAddress(family: Family, address: string, prefixLength: number): boolean {
  return (
    isIP(address) === family &&
    Number.isInteger(prefixLength) &&
    prefixLength >= 0 &&
    prefixLength <= (family === 4 ? 32 : 128)
  );
}

/** Reads `ip -j addr show` output. Total: bad input gives `errors > 0`, never an exception. */
export function parseIpAddrJson(text: string): IpSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { links: [], addresses: [], errors: 1 };
  }
  if (!Array.isArray(data)) return { links: [], addresses: [], errors: 1 };
  const links: IpLink[] = [];
  const addresses: IpAddress[] = [];
  let errors = 0;
  for (const link of data) {
    if (!isRecord(link) || typeof link.ifname !== 'string') {
      errors++;
      continue;
    }
    const ifname = link.ifname;
    const flags = Array.isArray(link.flags)
      ? link.flags.filter((f): f is string => typeof f === 'string')
      : [];
    links.push({ ifname, up: linkUp(flags) });
    const infos = Array.isArray(link.addr_info) ? link.addr_info : [];
    for (const info of infos) {
      if (!isRecord(info)) {
        errors++;
        continue;
      }
      const family = info.family === 'inet' ? 4 : info.family === 'inet6' ? 6 : undefined;
      const address = info.local;
      const prefixLength = info.prefixlen;
      if (
        family === undefined ||
        typeof address !== 'string' ||
        typeof prefixLength !== 'number' ||
        !validAddress(family, address, prefixLength)
      ) {
        errors++;
        continue;
      }
      addresses.push({
        ifname,
        family,
        address,
        prefixLength,
        tentative: info.tentative === true || info.dadfailed === true,
      });
    }
  }
  return { links, addresses, errors };
}

const ADDRESS_LINE = /^(?:\[[A-Z]+\]\s*)?(Deleted\s+)?\d+:\s+(\S+)\s+(inet6?)\s+(\S+)(.*)$/;
const LINK_LINE = /^(?:\[[A-Z]+\]\s*)?(Deleted\s+)?\d+:\s+([^\s:]+):\s+<([^>]*)>/;

/**
 * Reads one line of `ip -o monitor address link`. Undefined when the line is not understood (the
 * caller counts it). Samples (iproute2 6.1, `-o` joins continuation lines with `\`):
 *
 *     3: v0    inet 198.51.100.7/24 scope global v0\       valid_lft forever preferred_lft forever
 *     Deleted 3: v0    inet6 2001:db8:2::7/64 scope global nodad \       valid_lft forever ...
 *     3: v0@v1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP ... \    link/ether ...
 */
export function parseIpMonitorLine(line: string): IpMonitorRecord | undefined {
  const text = line.trim();
  if (text === '' || text.startsWith('Timestamp:')) return { kind: 'ignored' };
  const a = ADDRESS_LINE.exec(text);
  if (a) {
    const [, deleted, ifname, inet, local, rest] = a as unknown as [
      string,
      string | undefined,
      string,
      string,
      string,
      string,
    ];
    const family: Family = inet === 'inet' ? 4 : 6;
    const tokens = rest.replaceAll('\\', ' ').split(/\s+/).filter(Boolean);
    let [address, len] = local.split('/') as [string, string?];
    // `inet 10.0.0.1 peer 10.0.0.2/32`: the prefix length is printed on the peer.
    const peer = tokens.indexOf('peer');
    if (len === undefined && peer >= 0) len = tokens[peer + 1]?.split('/')[1];
    const prefixLength = len === undefined ? (family === 4 ? 32 : 128) : /^\d+$/.test(len) ? Number(len) : -1;
    if (!validAddress(family, address, prefixLength)) return undefined;
    return {
      kind: 'address',
      deleted: deleted !== undefined,
      ifname,
      family,
      address,
      prefixLength,
      tentative: tokens.includes('tentative') || tokens.includes('dadfailed'),
    };
  }
  const l = LINK_LINE.exec(text);
  if (l) {
    const [, deleted, name, flags] = l as unknown as [string, string | undefined, string, string];
    // `v0@v1`, `eth0@if7`, `v1@NONE`: the part after @ is the peer or parent link.
    const at = name.indexOf('@');
    const ifname = at > 0 ? name.slice(0, at) : name;
    return { kind: 'link', deleted: deleted !== undefined, ifname, up: linkUp(flags.split(',')) };
  }
  return undefined;
}

interface KnownAddress {
  readonly family: Family;
  readonly prefixLength: number;
  readonly tentative: boolean;
}

/**
 * Turns kernel facts (snapshots and monitor records) into the LinkEvent stream described at the
 * top of this file. Pure: no processes, so it is tested on captured `ip` output.
 */
export class LinkStateTracker {
  /** ifname → up; a link not in the map is treated as up (its state was never seen). */
  private readonly links = new Map<string, boolean>();
  private readonly addresses = new Map<string, Map<string, KnownAddress>>();
  /** ifname → address → prefix length, as last reported by ADDRESS.ADDED. */
  private readonly reported = new Map<string, Map<string, { family: Family; prefixLength: number }>>();

  constructor(private readonly accepts: (ifname: string) => boolean) {}

  /** Replaces the whole state with a snapshot and returns the differences as events. */
  reconcile(snapshot: IpSnapshot): LinkEvent[] {
    const events: LinkEvent[] = [];
    const names = new Set<string>();
    for (const link of snapshot.links) if (this.accepts(link.ifname)) names.add(link.ifname);
    for (const a of snapshot.addresses) if (this.accepts(a.ifname)) names.add(a.ifname);
    const gone = [
      ...new Set([...this.links.keys(), ...this.addresses.keys(), ...this.reported.keys()]),
    ].filter((n) => !names.has(n));
    for (const ifname of gone) events.push(...this.setLink(ifname, false, true));
    const byLink = new Map<string, Map<string, KnownAddress>>();
    for (const a of snapshot.addresses) {
      if (!names.has(a.ifname)) continue;
      const m = byLink.get(a.ifname) ?? new Map<string, KnownAddress>();
      byLink.set(a.ifname, m);
      m.set(a.address, { family: a.family, prefixLength: a.prefixLength, tentative: a.tentative });
    }
    for (const link of snapshot.links) {
      if (!names.has(link.ifname)) continue;
      this.addresses.set(link.ifname, byLink.get(link.ifname) ?? new Map());
      events.push(...this.setLink(link.ifname, link.up, false));
    }
    // Addresses of links the snapshot did not list (not seen in practice; kept for totality).
    for (const [ifname, m] of byLink)
      if (!snapshot.links.some((l) => l.ifname === ifname)) {
        this.addresses.set(ifname, m);
        events.push(...this.sync(ifname));
      }
    return events;
  }

  /** Applies one monitor record and returns the resulting events. */
  apply(record: IpMonitorRecord): LinkEvent[] {
    if (record.kind === 'ignored' || !this.accepts(record.ifname)) return [];
    if (record.kind === 'link')
      return this.setLink(record.ifname, record.up && !record.deleted, record.deleted);
    const m = this.addresses.get(record.ifname) ?? new Map<string, KnownAddress>();
    this.addresses.set(record.ifname, m);
    if (record.deleted) m.delete(record.address);
    else
      m.set(record.address, {
        family: record.family,
        prefixLength: record.prefixLength,
        tentative: record.tentative,
      });
    return this.sync(record.ifname);
  }

  private setLink(ifname: string, up: boolean, deleted: boolean): LinkEvent[] {
    const prev = this.links.get(ifname);
    const events: LinkEvent[] = [];
    const hadReported = (this.reported.get(ifname)?.size ?? 0) > 0;
    if (!up && (prev === true || (prev === undefined && hadReported)))
      events.push({ type: 'LINK.DOWN', ifname });
    if (deleted) {
      this.links.delete(ifname);
      this.addresses.delete(ifname);
      this.reported.delete(ifname);
      return events;
    }
    this.links.set(ifname, up);
    return [...events, ...this.sync(ifname)];
  }

  /** Brings the reported set of one link in line with its usable addresses. */
  private sync(ifname: string): LinkEvent[] {
    const events: LinkEvent[] = [];
    const reported = this.reported.get(ifname) ?? new Map<string, { family: Family; prefixLength: number }>();
    this.reported.set(ifname, reported);
    if (this.links.get(ifname) === false) {
      // Covered by the LINK.DOWN already sent (or the link was never reported up).
      reported.clear();
      return events;
    }
    const present = this.addresses.get(ifname) ?? new Map<string, KnownAddress>();
    for (const [address, r] of [...reported]) {
      const now = present.get(address);
      if (!now || now.tentative) {
        reported.delete(address);
        events.push({ type: 'ADDRESS.REMOVED', ifname, family: r.family, address });
      }
    }
    for (const [address, a] of present) {
      if (a.tentative || reported.get(address)?.prefixLength === a.prefixLength) continue;
      reported.set(address, { family: a.family, prefixLength: a.prefixLength });
      events.push({ type: 'ADDRESS.ADDED', ifname, family: a.family, address, prefixLength: a.prefixLength });
    }
    return events;
  }
}

export interface IpLinkMonitorOptions {
  /** Interfaces to report; default every interface but `lo`. */
  readonly interfaces?: readonly string[];
  /**
   * Links never watched, even when `interfaces` is absent: the mobile node's own TUN device,
   * whose home addresses would otherwise read as "at home" wherever it is.
   */
  readonly exclude?: readonly string[];
  /** The iproute2 binary. Default `ip`. */
  readonly ipCommand?: string;
  /** Watch this network namespace (`ip -n <netns>`) instead of the process's own. */
  readonly netns?: string;
  /**
   * A second full dump this long after start (ms; 0 = none), reconciled like the first: the
   * monitor process cannot say when it has subscribed, so a change between its start and the first
   * dump could otherwise be missed. Default 1000.
   */
  readonly resyncAfterMs?: number;
  /** Failures after start (the monitor process exiting, a failed resync). */
  readonly onError?: (error: Error) => void;
}

export interface LinkMonitorStats {
  readonly lines: number;
  readonly parseErrors: number;
  readonly events: number;
}

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new Error(`link monitor: ${command} ${args.join(' ')} failed: ${stderr.trim() || error.message}`),
          );
        else resolve(stdout);
      },
    );
  });
}

export class IpLinkMonitor implements LinkMonitor {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private running = false;
  private counters = { lines: 0, parseErrors: 0, events: 0 };
  private readonly ip: string;

  constructor(private readonly options: IpLinkMonitorOptions = {}) {
    this.ip = options.ipCommand ?? 'ip';
  }

  stats(): LinkMonitorStats {
    return { ...this.counters };
  }

  async start(listener: (event: LinkEvent) => void): Promise<void> {
    if (this.running) throw new Error('link monitor: already started');
    this.running = true;
    const only = this.options.interfaces;
    const never = this.options.exclude ?? [];
    const tracker = new LinkStateTracker(
      only ? (n) => only.includes(n) && !never.includes(n) : (n) => n !== 'lo' && !never.includes(n),
    );
    const emit = (events: LinkEvent[]) => {
      if (!this.running) return;
      for (const e of events) {
        this.counters.events++;
        listener(e);
      }
    };

    // The monitor starts first so that no change between the dump and the monitor is lost; its
    // lines wait until the dump has been applied.
    const ns = this.options.netns ? ['-n', this.options.netns] : [];
    const child = spawn(this.ip, [...ns, '-o', 'monitor', 'address', 'link'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    let pending: string[] | undefined = [];
    const onLine = (line: string) => {
      if (!this.running) return;
      this.counters.lines++;
      const record = parseIpMonitorLine(line);
      if (!record) {
        this.counters.parseErrors++;
        return;
      }
      emit(tracker.apply(record));
    };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (pending) pending.push(line);
      else onLine(line);
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new Error(`link monitor: cannot run ${this.ip}: ${e.message}`)));
    });
    // A later 'error' (a failed kill) must not go unhandled: that would end the process.
    child.on('error', (e) => {
      if (child.pid !== undefined) this.options.onError?.(e);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('exit', (code, signal) => {
      if (this.running && this.child === child)
        this.options.onError?.(
          new Error(`link monitor: ip monitor exited (${signal ?? `code ${code}`}): ${stderr.trim()}`),
        );
    });

    const dump = async () => {
      const snapshot = parseIpAddrJson(await run(this.ip, [...ns, '-j', 'addr', 'show']));
      this.counters.parseErrors += snapshot.errors;
      emit(tracker.reconcile(snapshot));
    };
    try {
      await spawned;
      await dump();
    } catch (e) {
      await this.stop();
      throw e;
    }
    const lines = pending;
    pending = undefined;
    for (const line of lines) onLine(line);

    const resync = this.options.resyncAfterMs ?? 1000;
    if (resync > 0)
      this.resyncTimer = setTimeout(() => {
        this.resyncTimer = undefined;
        dump().catch((e: Error) => this.options.onError?.(e));
      }, resync);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    const child = this.child;
    this.child = undefined;
    // No pid: the spawn itself failed, there is nothing to end.
    if (child && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await this.exited;
    }
  }
}
