/**
 * The dsmip6 inspector page: reads the record stream (src/inspect/server.ts, one msgpack record
 * per WebSocket message) or a recording (src/inspect/record.ts) and draws the actor tree, the
 * selected actor's statechart, a timeline, the MN ↔ HA signalling and the binding cache.
 * Vanilla DOM, no build step; msgpackr's browser build sets the global `msgpackr`.
 */

import { activeStateIds } from './active.js';

const TIMELINE_MAX = 200;
const PACKETS_MAX = 300;
const FLASH_MS = 1500;
/** Replay at 1× or 10× squeezes longer quiet gaps to this (recording time, ms). */
const REPLAY_GAP_MAX = 10_000;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Creates an element: `el('li', { class: 'x', 'data-id': 'y' }, 'text', child)`. */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c !== undefined && c !== null) e.append(c);
  }
  return e;
}

// ---------------------------------------------------------------- state

/** Statecharts by machine id (GET /machines.json). */
let machines = {};
/** Live actors by id (ActorRecord), in arrival order, so parents come before children. */
const actors = new Map();
/** Latest snapshot by actor id. */
const snapshots = new Map();
/** A name for every actor ever seen (also stopped ones, for the timeline). */
const names = new Map();
/** Newest last. */
let timeline = [];
let packets = [];
let droppedTotal = 0;
let selected = null;
/** Until the user clicks an actor, the selection follows the default rule. */
let userSelected = false;
/** The last transition taken by the selected actor: { rec, at }. */
let lastTaken = null;

const dirty = { tree: true, chart: true, timeline: true, sequence: true, bce: true, status: true };

function resetActors() {
  actors.clear();
  snapshots.clear();
  lastTaken = null;
  for (const k of Object.keys(dirty)) dirty[k] = true;
}

function resetAll() {
  resetActors();
  names.clear();
  timeline = [];
  packets = [];
  droppedTotal = 0;
}

function nameOf(id) {
  return id === undefined ? '' : (names.get(id) ?? id);
}

/** Apply one record to the model; rendering happens later, batched. */
function apply(r) {
  switch (r.kind) {
    case 'hello':
      resetActors();
      break;
    case 'actor':
      actors.set(r.id, r);
      names.set(r.id, r.systemId ?? r.ref);
      dirty.tree = dirty.bce = true;
      if (r.id === selected) dirty.chart = true;
      break;
    case 'snapshot':
      snapshots.set(r.id, r);
      if (r.id === selected) dirty.chart = true;
      if (actors.get(r.id)?.machineId === 'bindingCacheEntry') dirty.bce = true;
      dirty.tree = true;
      break;
    case 'stopped':
      actors.delete(r.id);
      snapshots.delete(r.id);
      dirty.tree = dirty.bce = true;
      break;
    case 'transition':
      if (r.id === selected) {
        lastTaken = { rec: r, at: Date.now() };
        dirty.chart = true;
      }
      pushTimeline(r);
      break;
    case 'event':
      pushTimeline(r);
      break;
    case 'packet':
      pushTimeline(r);
      packets.push(r);
      if (packets.length > PACKETS_MAX) packets = packets.slice(-PACKETS_MAX);
      dirty.sequence = true;
      break;
    case 'dropped':
      droppedTotal += r.count ?? 0;
      dirty.status = true;
      break;
  }
  schedule();
}

function pushTimeline(r) {
  timeline.push(r);
  if (timeline.length > TIMELINE_MAX * 2) timeline = timeline.slice(-TIMELINE_MAX);
  dirty.timeline = true;
}

// ---------------------------------------------------------------- rendering

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    render();
  }, 16);
}

function render() {
  chooseDefaultSelection();
  if (dirty.tree) renderTree();
  if (dirty.chart) renderChart();
  if (dirty.timeline) renderTimeline();
  if (dirty.sequence) renderSequence();
  if (dirty.bce) renderBindingCache();
  if (dirty.status) renderStatus();
  for (const k of Object.keys(dirty)) dirty[k] = false;
}

function chooseDefaultSelection() {
  if (selected !== null && actors.has(selected) && userSelected) return;
  if (selected !== null && actors.has(selected) && !userSelected) {
    // Keep the default unless a better one (an mn/bul/ actor) showed up.
    if (actors.get(selected).systemId?.startsWith('mn/bul/')) return;
  }
  const all = [...actors.values()];
  const pick = all.find((a) => a.systemId?.startsWith('mn/bul/')) ?? all[0];
  const id = pick?.id ?? null;
  if (id !== selected) select(id, false);
}

function select(id, byUser) {
  if (byUser) userSelected = true;
  if (id !== selected) {
    selected = id;
    lastTaken = null;
    chartMachine = undefined;
  }
  dirty.tree = dirty.chart = true;
  schedule();
}

/** Short text of a state value: `registration.bound.registered, rateLimit.slot1.idle`. */
function valueText(value) {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return '';
  return Object.entries(value)
    .map(([k, v]) => (typeof v === 'string' ? `${k}.${v}` : `${k}.{${valueText(v)}}`))
    .join(', ');
}

function renderTree() {
  const byParent = new Map();
  for (const a of actors.values()) {
    const parent = a.parent !== undefined && actors.has(a.parent) ? a.parent : '';
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(a);
  }
  const build = (parentId) => {
    const ul = el('ul');
    for (const a of byParent.get(parentId) ?? []) {
      const snap = snapshots.get(a.id);
      const li = el('li', {
        'data-testid': 'actor',
        'data-actor-id': a.id,
        'data-system-id': a.systemId,
        'data-machine-id': a.machineId,
        class: a.id === selected ? 'selected' : undefined,
      });
      const label = el(
        'span',
        { class: 'actor-label', title: `${a.id} (${a.machineId})` },
        a.systemId ?? a.ref,
        ' ',
        el('small', {}, a.machineId),
        snap?.value !== undefined ? el('small', {}, ` · ${valueText(snap.value)}`) : undefined,
      );
      label.addEventListener('click', () => select(a.id, true));
      li.append(label);
      if (byParent.has(a.id)) li.append(build(a.id));
      ul.append(li);
    }
    return ul;
  };
  const root = build('');
  $('actors').replaceChildren(...root.childNodes);
}

/** The machine id whose chart is currently drawn (undefined: draw again). */
let chartMachine;

function shortId(machineId, id) {
  return id.startsWith(`${machineId}.`) ? id.slice(machineId.length + 1) : `#${id}`;
}

function transitionText(machineId, t) {
  let trigger;
  if (t.kind === 'after') trigger = `after ${t.delay}`;
  else if (t.kind === 'always') trigger = 'always';
  else trigger = t.event;
  const guard = t.guard ? ` [${t.guard}]` : '';
  const targets = t.targets.length ? t.targets.map((id) => shortId(machineId, id)).join(', ') : '(stay)';
  return `${trigger}${guard} → ${targets}`;
}

/** Draws the selected actor's machine as nested boxes (once per machine), then marks active states. */
function renderChart() {
  const chartEl = $('statechart');
  const actor = selected === null ? undefined : actors.get(selected);
  const chart = actor ? machines[actor.machineId] : undefined;
  const snap = actor ? snapshots.get(actor.id) : undefined;
  $('chart-title').textContent = actor
    ? `${actor.systemId ?? actor.ref} — ${actor.machineId}${snap ? ` (${snap.status})` : ''}`
    : 'Statechart';
  if (!chart) {
    chartMachine = undefined;
    chartEl.className = '';
    chartEl.removeAttribute('data-machine-id');
    chartEl.replaceChildren(
      el('p', { class: 'empty' }, actor ? `no statechart for ${actor.machineId}` : 'no actor'),
    );
    $('chart-last').textContent = '';
    return;
  }
  if (chartMachine !== chart.id) {
    chartMachine = chart.id;
    drawChart(chartEl, chart);
  }
  const active = new Set(snap ? activeStateIds(chart.id, snap.value, chart.root) : []);
  for (const box of chartEl.querySelectorAll('[data-state-id]')) {
    box.classList.toggle('active', active.has(box.getAttribute('data-state-id')));
  }
  showLastTaken(chartEl, chart);
}

function drawChart(chartEl, chart) {
  const bySource = new Map();
  for (const t of chart.transitions) {
    if (!bySource.has(t.source)) bySource.set(t.source, []);
    bySource.get(t.source).push(t);
  }
  const transitionList = (stateId) => {
    const list = bySource.get(stateId);
    if (!list) return undefined;
    return el(
      'ul',
      { class: 'transitions' },
      ...list.map((t) =>
        el(
          'li',
          {
            class: 'transition',
            'data-source': t.source,
            'data-event': t.event,
            'data-targets': t.targets.join(' '),
          },
          transitionText(chart.id, t),
        ),
      ),
    );
  };
  const box = (node, parentType, initial) => {
    const classes = ['state', node.type];
    if (parentType === 'parallel') classes.push('region');
    const name = el(
      'div',
      { class: 'state-name' },
      initial ? el('span', { class: 'initial', title: 'initial' }, '● ') : undefined,
      node.key,
      node.type === 'parallel' || node.type === 'final' || node.type === 'history'
        ? el('span', { class: 'type' }, node.type)
        : undefined,
    );
    const children = node.children.length
      ? el(
          'div',
          { class: 'children' },
          ...node.children.map((c) => box(c, node.type, c.id === node.initial)),
        )
      : undefined;
    return el(
      'div',
      { class: classes.join(' '), 'data-state-id': node.id, title: node.id },
      name,
      transitionList(node.id),
      children,
    );
  };
  chartEl.className = chart.root.type === 'parallel' ? 'parallel' : '';
  chartEl.setAttribute('data-machine-id', chart.id);
  const rootTransitions = transitionList(chart.root.id);
  chartEl.replaceChildren(
    ...(rootTransitions ? [rootTransitions] : []),
    ...chart.root.children.map((c) => box(c, chart.root.type, c.id === chart.root.initial)),
  );
}

/** Highlights the last transition taken (its line and its targets) for FLASH_MS. */
function showLastTaken(chartEl, chart) {
  for (const e of chartEl.querySelectorAll('.taken')) e.classList.remove('taken');
  const last = lastTaken;
  if (!last) {
    $('chart-last').textContent = '';
    return;
  }
  const r = last.rec;
  const targets = r.targets.map((id) => shortId(chart.id, id)).join(', ') || '(stay)';
  $('chart-last').textContent = `last: ${r.eventType} — ${shortId(chart.id, r.source)} → ${targets}`;
  const age = Date.now() - last.at;
  if (age >= FLASH_MS) return;
  const lines = [...chartEl.querySelectorAll('.transition')].filter(
    (li) => li.getAttribute('data-source') === r.source && li.getAttribute('data-event') === r.eventType,
  );
  const exact = lines.find((li) => li.getAttribute('data-targets') === r.targets.join(' '));
  (exact ?? lines[0])?.classList.add('taken');
  for (const id of r.targets) {
    const target = chartEl.querySelector(`[data-state-id="${CSS.escape(id)}"]`);
    if (target) {
      target.classList.remove('entered');
      void target.offsetWidth; // restart the animation
      target.classList.add('entered');
    }
  }
  setTimeout(() => {
    if (lastTaken === last) {
      dirty.chart = true;
      schedule();
    }
  }, FLASH_MS - age);
}

function timeText(t) {
  if (typeof t !== 'number') return '';
  const d = new Date(t);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function payloadText(payload) {
  const entries = Object.entries(payload ?? {});
  return entries.length ? ` ${entries.map(([k, v]) => `${k}=${v}`).join(' ')}` : '';
}

function timelineRow(r) {
  let who = '';
  let text = '';
  if (r.kind === 'event') {
    who = nameOf(r.target);
    text = `${r.type}${r.source !== undefined ? ` ← ${nameOf(r.source)}` : ''}${payloadText(r.payload)}`;
  } else if (r.kind === 'transition') {
    who = nameOf(r.id);
    text = `${r.eventType}: ${r.source} → ${r.targets.join(', ') || '(stay)'}`;
  } else if (r.kind === 'packet') {
    who = r.direction;
    text = r.summary;
  }
  return el(
    'li',
    { class: `kind-${r.kind}`, 'data-kind': r.kind },
    el('span', { class: 'time' }, timeText(r.t)),
    el('span', { class: 'who', title: who }, who),
    el('span', { class: 'kind' }, r.kind),
    el('span', { class: 'text', title: text }, text),
  );
}

function renderTimeline() {
  const rows = timeline.slice(-TIMELINE_MAX).reverse().map(timelineRow);
  $('timeline').replaceChildren(...rows);
}

const FROM_MN = /^(BU|HoTI|CoTI)\b/;
const FROM_HA = /^(BA|BE|BRR|HoT|CoT)\b/;

/** Addresses the mobile node uses, from the live binding cache entries and binding update list. */
function mnAddresses() {
  const addrs = new Set();
  for (const a of actors.values()) {
    const c = snapshots.get(a.id)?.context;
    if (!c || (a.machineId !== 'bindingCacheEntry' && a.machineId !== 'bindingUpdate')) continue;
    for (const v of [c.homeAddress, c.careOf?.address ?? c.careOf, c.nat?.address]) {
      if (typeof v === 'string') addrs.add(v);
    }
  }
  return addrs;
}

/**
 * True when the packet goes MN → HA: by its mobility message if readable, else by its outer
 * addresses, else by this daemon's role and the packet's direction.
 */
function towardHa(p, mnAddrs) {
  const parts = String(p.summary).split(' | ');
  const mh = parts.find((s) => FROM_MN.test(s) || FROM_HA.test(s));
  if (mh) return FROM_MN.test(mh);
  const outer = /^IPv[46] (\S+) > (\S+)/.exec(parts[0] ?? '');
  if (outer && mnAddrs.has(outer[1])) return true;
  if (outer && mnAddrs.has(outer[2])) return false;
  const machinesHere = new Set([...actors.values()].map((a) => a.machineId));
  const isHa = machinesHere.has('homeAgent') && !machinesHere.has('mobileNode');
  return isHa ? p.direction === 'in' : p.direction === 'out';
}

function renderSequence() {
  const list = $('sequence');
  const mnAddrs = mnAddresses();
  const rows = packets.map((p) => {
    const toHa = towardHa(p, mnAddrs);
    const mh = String(p.summary).split(' | ').pop();
    return el(
      'li',
      { class: toHa ? 'to-ha' : 'to-mn', 'data-direction': p.direction },
      el('span', { class: 'arrow' }, toHa ? `MN ── ${mh} ──▶ HA` : `MN ◀── ${mh} ── HA`),
      el('span', { class: 'summary' }, `${timeText(p.t)} ${p.direction} ${p.summary}`),
    );
  });
  const atBottom = list.parentElement
    ? list.parentElement.scrollHeight - list.parentElement.scrollTop - list.parentElement.clientHeight < 40
    : true;
  list.replaceChildren(...rows);
  if (atBottom && list.parentElement) list.parentElement.scrollTop = list.parentElement.scrollHeight;
}

function renderBindingCache() {
  const rows = [];
  for (const a of actors.values()) {
    if (a.machineId !== 'bindingCacheEntry') continue;
    const snap = snapshots.get(a.id);
    const c = snap?.context ?? {};
    const nat = c.nat ? `${c.nat.address}:${c.nat.port}` : '—';
    const lifetime = typeof c.lifetimeSeconds === 'number' ? `${c.lifetimeSeconds}s` : '—';
    rows.push(
      el(
        'tr',
        {
          'data-testid': 'binding-row',
          'data-system-id': a.systemId,
          title: snap ? valueText(snap.value) : '',
        },
        el('td', {}, c.homeAddress ?? a.systemId ?? a.ref),
        el('td', { 'data-testid': 'binding-coa' }, c.careOf?.address ?? '—'),
        el('td', {}, c.tunnel ?? '—'),
        el('td', {}, nat),
        el('td', {}, lifetime),
      ),
    );
  }
  $('bce-rows').replaceChildren(...rows);
}

// ---------------------------------------------------------------- status, live stream, replay

let connection = 'connecting';
function setConnection(text) {
  connection = text;
  dirty.status = true;
  schedule();
}

function renderStatus() {
  const status = $('status');
  status.textContent = connection;
  status.className = connection.split(' ')[0];
  const dropped = $('dropped');
  dropped.hidden = droppedTotal === 0;
  dropped.textContent = `dropped: ${droppedTotal}`;
}

const msgpackr = globalThis.msgpackr;
function decode(bytes) {
  return msgpackr.unpack(bytes);
}

let ws = null;
let live = true;
let retry = 500;

function streamUrl() {
  const url = new URL('stream', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  const token = new URLSearchParams(location.search).get('token');
  if (token) url.searchParams.set('token', token);
  return url.toString();
}

function connect() {
  if (!live) return;
  setConnection('connecting');
  const sock = new WebSocket(streamUrl());
  sock.binaryType = 'arraybuffer';
  ws = sock;
  sock.onopen = () => {
    retry = 500;
    setConnection('connected');
  };
  sock.onmessage = (ev) => {
    if (ws !== sock || typeof ev.data === 'string') return;
    try {
      apply(decode(new Uint8Array(ev.data)));
    } catch (e) {
      console.error('inspect: bad record', e);
    }
  };
  sock.onclose = () => {
    if (ws !== sock) return;
    ws = null;
    if (!live) return;
    setConnection(`disconnected (retrying in ${Math.round(retry / 1000)}s)`);
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 5000);
  };
}

function stopLive() {
  live = false;
  const sock = ws;
  ws = null;
  sock?.close();
}

/** Splits a recording: each frame is a 4-byte big-endian length and that many msgpack bytes. */
function splitFrames(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames = [];
  let off = 0;
  while (off + 4 <= bytes.length) {
    const len = view.getUint32(off);
    if (off + 4 + len > bytes.length) break;
    frames.push(bytes.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return frames;
}

let replayTimer = null;

function stopReplay() {
  if (replayTimer !== null) clearTimeout(replayTimer);
  replayTimer = null;
  $('replay-stop').hidden = true;
}

async function startReplay(file) {
  const records = [];
  for (const f of splitFrames(new Uint8Array(await file.arrayBuffer()))) {
    try {
      records.push(decode(f));
    } catch (e) {
      console.error('inspect: bad frame in recording', e);
    }
  }
  stopReplay();
  stopLive();
  resetAll();
  userSelected = false;
  selected = null;
  $('go-live').hidden = false;
  $('replay-stop').hidden = false;
  const speedValue = /** @type {HTMLSelectElement} */ ($('replay-speed')).value;
  const speed = speedValue === 'max' ? Infinity : Number(speedValue) || 1;
  // Virtual times: recording times with long gaps squeezed.
  const at = [];
  let prevT;
  let v = 0;
  for (const r of records) {
    const t = typeof r.t === 'number' ? r.t : typeof r.now === 'number' ? r.now : prevT;
    if (t !== undefined && prevT !== undefined) v += Math.min(Math.max(t - prevT, 0), REPLAY_GAP_MAX);
    if (t !== undefined) prevT = t;
    at.push(v);
  }
  const started = performance.now();
  let i = 0;
  const step = () => {
    replayTimer = null;
    const elapsed = (performance.now() - started) * speed;
    let n = 0;
    while (i < records.length && (speed === Infinity ? n < 2000 : at[i] <= elapsed)) {
      apply(records[i++]);
      n++;
    }
    setConnection(`replay ${file.name}: ${i}/${records.length}${i === records.length ? ' (done)' : ''}`);
    if (i >= records.length) {
      $('replay-stop').hidden = true;
      return;
    }
    const wait = speed === Infinity ? 0 : Math.min(Math.max((at[i] - elapsed) / speed, 0), 1000);
    replayTimer = setTimeout(step, wait);
  };
  step();
}

function goLive() {
  stopReplay();
  resetAll();
  userSelected = false;
  selected = null;
  $('go-live').hidden = true;
  live = true;
  connect();
}

async function main() {
  $('replay-file').addEventListener('change', (ev) => {
    const input = /** @type {HTMLInputElement} */ (ev.target);
    const file = input.files?.[0];
    if (file) startReplay(file);
    input.value = '';
  });
  $('replay-stop').addEventListener('click', () => {
    stopReplay();
    setConnection(`${connection} (stopped)`);
  });
  $('go-live').addEventListener('click', goLive);
  if (!msgpackr) {
    setConnection('disconnected: msgpackr did not load (/vendor/msgpackr.js)');
    return;
  }
  try {
    const res = await fetch('machines.json');
    machines = await res.json();
  } catch (e) {
    console.error('inspect: no machines.json', e);
  }
  dirty.chart = true;
  connect();
}

main();
