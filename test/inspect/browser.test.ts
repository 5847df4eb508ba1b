/**
 * The inspector UI in a real browser: Debian's chromium, driven by playwright-core, opens the page
 * the inspect server serves at `/` while the in-memory world (the same actors as the daemons,
 * feeding the collector) walks the mobile node from an IPv4 network to a NATed one. It checks the
 * DOM contract the UI follows: the actor list, the selected actor's statechart with the active
 * state highlighted, the timeline and sequence views, and the binding cache's care-of addresses.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it) and fails without it.
 */

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WalkWorld } from '../../src/cli/walk.js';
import { memoryWorld } from '../../src/cli/walk-memory.js';
import {
  type CollectorRecord,
  createInspectCollector,
  type InspectCollector,
  type JsonValue,
  type RecordListener,
} from '../../src/inspect/collector.js';
import { type InspectServer, startInspectServer } from '../../src/inspect/server.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = 'test-artifacts/inspector.png';
const BUL = 'mn/bul/ha.example.net';
const IDLE = 'bindingUpdate.registration.idle';
const REGISTERING = 'bindingUpdate.registration.registering';
const BOUND = ['bindingUpdate.registration.bound', 'bindingUpdate.registration.bound.registered'];
/** How long the page may take to reflect what the world just did. */
const UI_TIMEOUT = 5000;

let userDataDir: string | undefined;
let context: BrowserContext | undefined;
let server: InspectServer | undefined;
let world: WalkWorld | undefined;
let page: Page | undefined;
let gate: Gate | undefined;
let bulId = '';
let screenshotTaken = false;
/** Why the browser, server or world did not come up; every test fails with it (never skips). */
let setupError: unknown;
const pageErrors: string[] = [];

/*
 * The functions handed to `page.evaluate` run in the page. The project compiles without the DOM
 * library, so they reach the page's globals through these few structural types.
 */
interface PageElement {
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
}
interface PageGlobals {
  document: { querySelectorAll(selector: string): Iterable<PageElement> };
}

function thePage(): Page {
  if (setupError !== undefined) throw setupError;
  if (!page) throw new Error('the inspector page is not open');
  return page;
}

function theWorld(): WalkWorld {
  if (setupError !== undefined) throw setupError;
  if (!world) throw new Error('the in-memory world is not running');
  return world;
}

async function setUp(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error('chromium is required: apt-get install -y chromium');
  const collector = createInspectCollector();
  gate = gated(collector);
  server = await startInspectServer({ port: 0, env: {}, collector: gate.collector });
  world = await memoryWorld({
    inspect: { observer: collector.observer, packetBytes: (d, b) => collector.packetBytes(d, b) },
  });
  bulId = collector.actors().find((a) => a.systemId === BUL)?.id ?? '';
  if (bulId === '') throw new Error(`the in-memory world has no ${BUL} actor`);
  userDataDir = await mkdtemp(join(tmpdir(), 'dsmip6-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const res = await page.goto(`http://127.0.0.1:${server.port}/`);
  if (res?.status() !== 200) throw new Error(`GET / answered ${res?.status()}`);
}

/** The state ids the page currently marks active in the statechart. */
function activeStates(p: Page): Promise<string[]> {
  return p.evaluate(() =>
    [
      ...(globalThis as unknown as PageGlobals).document.querySelectorAll(
        '[data-testid="statechart"] [data-state-id].active',
      ),
    ].map((el) => el.getAttribute('data-state-id') ?? ''),
  );
}

/** The texts of the binding cache's care-of address cells. */
function coaCells(p: Page): Promise<string[]> {
  return p.evaluate(() =>
    [
      ...(globalThis as unknown as PageGlobals).document.querySelectorAll(
        '[data-testid="binding-cache"] [data-testid="binding-coa"]',
      ),
    ].map((el) => (el.textContent ?? '').trim()),
  );
}

async function waitForCoa(p: Page, address: string): Promise<void> {
  try {
    await p.waitForFunction(
      (a) =>
        [
          ...(globalThis as unknown as PageGlobals).document.querySelectorAll(
            '[data-testid="binding-cache"] [data-testid="binding-coa"]',
          ),
        ].some((el) => (el.textContent ?? '').includes(a)),
      address,
      { timeout: UI_TIMEOUT },
    );
  } catch {
    throw new Error(
      `no [data-testid="binding-coa"] cell in [data-testid="binding-cache"] shows ${address}; cells: ${JSON.stringify(await coaCells(p))}`,
    );
  }
}

/**
 * The collector as the server sees it, with a gate on the live records: while the gate is shut
 * they are held back, to be let through one part at a time. In the in-memory world the BA follows
 * the BU within the same clock step, so the registering snapshot and the bound one reach the page
 * together and it draws only the second (it renders in batches); the gate lets the test show the
 * page one snapshot at a time and look at each.
 */
function gated(inner: InspectCollector) {
  const listeners = new Set<RecordListener>();
  const held: CollectorRecord[] = [];
  let shut = false;
  const forward = (r: CollectorRecord): void => {
    for (const l of listeners) l(r);
  };
  inner.subscribe((r) => {
    if (shut) held.push(r);
    else forward(r);
  });
  const collector: InspectCollector = {
    observer: inner.observer,
    packet: (p) => inner.packet(p),
    packetBytes: (d, b, port) => inner.packetBytes(d, b, port),
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    state: () => inner.state(),
    actors: () => inner.actors(),
    snapshot: (id) => inner.snapshot(id),
    history: () => inner.history(),
  };
  return {
    collector,
    held: (): readonly CollectorRecord[] => held,
    shut(): void {
      shut = true;
    },
    /** Lets the held records through, up to and including the first that matches. */
    releaseThrough(match: (r: CollectorRecord) => boolean): void {
      const i = held.findIndex(match);
      if (i < 0) throw new Error('gate: no held record matches');
      for (const r of held.splice(0, i + 1)) forward(r);
    },
    open(): void {
      shut = false;
      for (const r of held.splice(0)) forward(r);
    },
  };
}

type Gate = ReturnType<typeof gated>;

/** The `registration` region of a bindingUpdate snapshot's value: 'registering', { bound: ... }. */
function registration(r: CollectorRecord, actorId: string): JsonValue | undefined {
  if (r.kind !== 'snapshot' || r.id !== actorId) return undefined;
  const v = r.value;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v.registration : undefined;
}

async function waitActive(p: Page, ids: string[], what: string): Promise<void> {
  try {
    await p.waitForFunction(
      (want) =>
        [
          ...(globalThis as unknown as PageGlobals).document.querySelectorAll(
            '[data-testid="statechart"] [data-state-id].active',
          ),
        ].some((el) => want.includes(el.getAttribute('data-state-id') ?? '')),
      ids,
      { timeout: UI_TIMEOUT },
    );
  } catch {
    throw new Error(
      `${what}: none of ${JSON.stringify(ids)} has class active in [data-testid="statechart"]; active: ${JSON.stringify(await activeStates(p))}`,
    );
  }
}

async function screenshot(): Promise<void> {
  if (!page) return;
  await mkdir('test-artifacts', { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  screenshotTaken = true;
}

describe('inspector UI in chromium', () => {
  beforeAll(async () => {
    // A failed setup fails each test (a throwing beforeAll would only mark them skipped).
    await setUp().catch((e: unknown) => {
      setupError = e;
    });
  }, 30_000);

  afterAll(async () => {
    if (page && !screenshotTaken) await screenshot().catch(() => {});
    await context?.close().catch(() => {});
    await server?.close().catch(() => {});
    await world?.close().catch(() => {});
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  }, 20_000);

  it('lists the actors and shows the BUL statechart, selected by default', async () => {
    const p = thePage();
    const w = theWorld();
    await w.move('ipv4');
    await w.wait(100);
    const actor = p.locator(`[data-testid="actor"][data-system-id="${BUL}"]`);
    await actor.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    // The default selection is the first mn/bul/ actor: its statechart is already there.
    const registering = p.locator(`[data-testid="statechart"] [data-state-id="${REGISTERING}"]`);
    await registering.waitFor({ state: 'attached', timeout: UI_TIMEOUT });
    await actor.click();
    await registering.waitFor({ state: 'attached', timeout: UI_TIMEOUT });
    await p.locator('[data-testid="timeline"]').waitFor({ state: 'attached', timeout: UI_TIMEOUT });
    await p.locator('[data-testid="sequence"]').waitFor({ state: 'attached', timeout: UI_TIMEOUT });
    // 100 ms into the 200 ms settle time nothing has been sent yet.
    await waitActive(p, [IDLE], 'before the BU');
    const active = await activeStates(p);
    expect(active).not.toContain(REGISTERING);
    expect(active.filter((s) => BOUND.includes(s))).toEqual([]);
  });

  it('highlights registering, then bound, as the BU and its BA go by', async () => {
    const p = thePage();
    const w = theWorld();
    const g = gate!;
    g.shut();
    try {
      // The BU goes out when the settle time (200 ms after the move) ends, and in memory the BA is
      // back within the same step: hold the records until both snapshots are in.
      const isRegistering = (r: CollectorRecord): boolean => registration(r, bulId) === 'registering';
      const isBound = (r: CollectorRecord): boolean => {
        const v = registration(r, bulId);
        return v !== null && typeof v === 'object' && !Array.isArray(v) && 'bound' in v;
      };
      for (let t = 0; t < 2000 && !g.held().some(isBound); t += 50) await w.wait(50);
      const held = g.held();
      const reg = held.findIndex(isRegistering);
      expect(reg, 'the BUL never entered registering').toBeGreaterThanOrEqual(0);
      expect(held.findIndex(isBound), 'no bound snapshot after registering').toBeGreaterThan(reg);
      g.releaseThrough(isRegistering);
      await waitActive(p, [REGISTERING], 'after the BU');
      expect(await activeStates(p)).not.toContain(BOUND[0]);
      g.open();
      await waitActive(p, BOUND, 'after the BA');
      expect(await activeStates(p)).not.toContain(REGISTERING);
    } finally {
      g.open();
    }
    expect((await w.binding())?.careOf).toBe('203.0.113.10');
  });

  it('shows the new care-of address in the binding cache after moving behind the NAT', async () => {
    const p = thePage();
    const w = theWorld();
    await waitForCoa(p, '203.0.113.10');
    await w.move('nat');
    await w.wait(2000);
    expect((await w.binding())?.careOf).toBe('10.0.0.10');
    await waitForCoa(p, '10.0.0.10');
    const cells = await coaCells(p);
    expect(
      cells.some((c) => c.includes('203.0.113.10')),
      `CoA cells: ${JSON.stringify(cells)}`,
    ).toBe(false);
    // The timeline and the signalling sequence have filled up along the way.
    expect(await p.locator('[data-testid="timeline"] > *').count()).toBeGreaterThan(0);
    expect(await p.locator('[data-testid="sequence"] > *').count()).toBeGreaterThan(0);
    await screenshot();
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors, 'uncaught errors in the page').toEqual([]);
  });
});
