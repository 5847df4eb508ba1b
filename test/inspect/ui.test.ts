import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createInspectCollector } from '../../src/inspect/collector.js';
import { type InspectServer, startInspectServer } from '../../src/inspect/server.js';
// @ts-expect-error plain browser JS without type declarations
import { activeStateIds } from '../../src/inspect/ui/active.js';
import { machineModels } from '../../src/testgen/registry.js';
import { statechartJson } from '../../src/testgen/statechart.js';

const activeIds = activeStateIds as (machineId: string, value: unknown, root?: unknown) => string[];

const open: InspectServer[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function base(ui?: boolean): Promise<string> {
  const server = await startInspectServer({
    port: 0,
    env: {},
    collector: createInspectCollector(),
    ...(ui === undefined ? {} : { ui }),
  });
  open.push(server);
  return `http://127.0.0.1:${server.port}`;
}

describe('inspect UI files', () => {
  it('serves the page, its script, its stylesheet and the msgpackr browser build', async () => {
    const url = await base();
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await index.text();
    expect(html).toContain('data-testid="statechart"');
    expect(html).toContain('ui/app.js');

    for (const [path, type] of [
      ['/ui/app.js', /^text\/javascript/],
      ['/ui/active.js', /^text\/javascript/],
      ['/ui/style.css', /^text\/css/],
      ['/vendor/msgpackr.js', /^text\/javascript/],
    ] as const) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(type);
      expect((await res.text()).length, path).toBeGreaterThan(100);
    }
    const vendor = await (await fetch(`${url}/vendor/msgpackr.js`)).text();
    // The UMD build that defines the `msgpackr` global in a browser.
    expect(vendor).toContain('global.msgpackr');
    expect(vendor).toMatch(/\bunpack\b/);
    expect((await fetch(`${url}/ui/nope.js`)).status).toBe(404);
    expect((await fetch(`${url}/../package.json`)).status).toBe(404);
  });

  it('serves every registered statechart at /machines.json', async () => {
    const url = await base();
    const res = await fetch(`${url}/machines.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const machines = (await res.json()) as Record<
      string,
      { id: string; root: { id: string; children: unknown[] }; transitions: unknown[] }
    >;
    expect(Object.keys(machines).sort()).toEqual(
      [
        'bindingCacheEntry',
        'bindingUpdate',
        'haDiscovery',
        'homeAgent',
        'mobileNode',
        'movement',
        'natKeepalive',
      ].sort(),
    );
    for (const [id, chart] of Object.entries(machines)) {
      expect(chart.id).toBe(id);
      expect(chart.root.id).toBe(id);
      expect(chart.root.children.length).toBeGreaterThan(0);
      expect(chart.transitions.length).toBeGreaterThan(0);
    }
  });

  it('with ui: false keeps the plain-text page and serves no UI files', async () => {
    const url = await base(false);
    const res = await fetch(`${url}/`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await fetch(`${url}/ui/app.js`)).status).toBe(404);
    expect((await fetch(`${url}/machines.json`)).status).toBe(404);
  });
});

describe('activeStateIds', () => {
  it('lists every active state below the root, parents first', () => {
    expect(activeIds('bindingUpdate', { registration: 'registering', rateLimit: { slot1: 'busy' } })).toEqual(
      [
        'bindingUpdate.registration',
        'bindingUpdate.registration.registering',
        'bindingUpdate.rateLimit',
        'bindingUpdate.rateLimit.slot1',
        'bindingUpdate.rateLimit.slot1.busy',
      ],
    );
  });

  it('handles an atomic top-level value and nothing at all', () => {
    expect(activeIds('natKeepalive', 'inactive')).toEqual(['natKeepalive.inactive']);
    expect(activeIds('natKeepalive', undefined)).toEqual([]);
    expect(activeIds('natKeepalive', {})).toEqual([]);
  });

  it('gives ids that exist in the statechart for a real snapshot value', () => {
    const model = machineModels.find((m) => m.machine.id === 'bindingUpdate')!;
    const chart = statechartJson(model.machine);
    const ids = new Set<string>();
    const walk = (n: { id: string; children: readonly unknown[] }): void => {
      ids.add(n.id);
      for (const c of n.children) walk(c as typeof n);
    };
    walk(chart.root);
    const value = createActor(model.machine, { input: model.input }).getSnapshot().value;
    const active = activeIds('bindingUpdate', value, chart.root);
    expect(active.length).toBeGreaterThan(1);
    for (const id of active) expect(ids.has(id), id).toBe(true);
  });

  it('uses the tree for states with a custom id', () => {
    const root = {
      id: 'm',
      key: 'm',
      children: [{ id: 'custom', key: 'a', children: [{ id: 'custom.b', key: 'b', children: [] }] }],
    };
    expect(activeIds('m', { a: 'b' }, root)).toEqual(['custom', 'custom.b']);
  });
});
