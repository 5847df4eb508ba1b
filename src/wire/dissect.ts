/**
 * Layer-by-layer decoding of any packet dsmip6 sends or receives, for logs, `dsmip6 decode`, the
 * demo and the inspector. It only composes the parsers; it never throws and stops at the first
 * layer that fails, returning what it decoded so far and the error.
 */

import { DSMIPV6_UDP_PORT, IpProto } from './constants.js';
import type { WireError } from './error.js';
import { type Ipv4Packet, parseIpv4 } from './ipv4.js';
import { type Ipv6Packet, parseIpv6, upperLayerPseudoHeader } from './ipv6.js';
import { type MobilityMessage, parseMobilityHeader } from './mh.js';
import type { MobilityOption } from './mh-options.js';
import { parseUdp } from './udp.js';

export type Layer =
  | { readonly layer: 'ipv4'; readonly header: Omit<Ipv4Packet, 'payload'> }
  | { readonly layer: 'ipv6'; readonly header: Omit<Ipv6Packet, 'payload' | 'payloadOffset'> }
  | { readonly layer: 'udp'; readonly srcPort: number; readonly dstPort: number }
  | { readonly layer: 'esp'; readonly spi: number; readonly sequence: number; readonly length: number }
  | { readonly layer: 'mh'; readonly message: MobilityMessage }
  | { readonly layer: 'data'; readonly protocol: number; readonly length: number };

export interface Dissection {
  readonly layers: Layer[];
  readonly error?: WireError;
}

/** Nesting bound: an IP-in-IP chain deeper than this is not something dsmip6 ever builds. */
const MAX_DEPTH = 4;

export function dissect(buf: Uint8Array, udpPort = DSMIPV6_UDP_PORT): Dissection {
  const layers: Layer[] = [];
  let cur = buf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const version = cur.length ? cur[0]! >> 4 : 0;
    let protocol: number;
    let payload: Uint8Array;
    let ph: ReturnType<typeof upperLayerPseudoHeader>;
    let v6: Ipv6Packet | undefined;
    if (version === 4) {
      const p = parseIpv4(cur);
      if (!p.ok) return { layers, error: p.error };
      const { payload: pl, ...header } = p.value;
      layers.push({ layer: 'ipv4', header });
      protocol = header.protocol;
      payload = pl;
      ph = { src: cur.subarray(12, 16), dst: cur.subarray(16, 20) };
    } else {
      const p = parseIpv6(cur);
      if (!p.ok) return { layers, error: p.error };
      v6 = p.value;
      const { payload: pl, payloadOffset: _, ...header } = v6;
      layers.push({ layer: 'ipv6', header });
      protocol = header.protocol;
      payload = pl;
      ph = { src: cur.subarray(8, 24), dst: cur.subarray(24, 40) };
    }
    if (protocol === IpProto.IPv4 || protocol === IpProto.IPv6) {
      cur = payload;
      continue;
    }
    if (protocol === IpProto.UDP) {
      const u = parseUdp(payload, ph);
      if (!u.ok) return { layers, error: u.error };
      layers.push({ layer: 'udp', srcPort: u.value.srcPort, dstPort: u.value.dstPort });
      if (u.value.srcPort !== udpPort && u.value.dstPort !== udpPort) {
        layers.push({ layer: 'data', protocol: IpProto.UDP, length: u.value.payload.length });
        return { layers };
      }
      cur = u.value.payload;
      continue;
    }
    if (protocol === IpProto.Mobility && v6) {
      const m = parseMobilityHeader(payload, upperLayerPseudoHeader(v6));
      if (!m.ok) return { layers, error: m.error };
      layers.push({ layer: 'mh', message: m.value });
      return { layers };
    }
    if (protocol === IpProto.ESP && payload.length >= 8) {
      const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      layers.push({ layer: 'esp', spi: dv.getUint32(0), sequence: dv.getUint32(4), length: payload.length });
      return { layers };
    }
    layers.push({ layer: 'data', protocol, length: payload.length });
    return { layers };
  }
  return { layers };
}

const SHORT: Record<MobilityMessage['kind'], string> = {
  bindingRefreshRequest: 'BRR',
  homeTestInit: 'HoTI',
  careOfTestInit: 'CoTI',
  homeTest: 'HoT',
  careOfTest: 'CoT',
  bindingUpdate: 'BU',
  bindingAcknowledgement: 'BA',
  bindingError: 'BE',
  unknown: 'MH',
};

function flagsText(flags: object): string {
  const on = Object.entries(flags)
    .filter(([, v]) => v)
    .map(([k]) => k);
  return on.length ? ` flags=${on.join('')}` : '';
}

function optionText(o: MobilityOption): string {
  switch (o.kind) {
    case 'bindingRefreshAdvice':
      return `refresh-advice ${o.refreshInterval}s`;
    case 'alternateCareOfAddress':
      return `alt-coa ${o.address}`;
    case 'nonceIndices':
      return `nonce-indices ${o.homeNonceIndex}/${o.careOfNonceIndex}`;
    case 'bindingAuthorizationData':
      return `auth-data ${o.authenticator.length}B`;
    case 'ipv4HomeAddress':
      return `ipv4-hoa ${o.address}/${o.prefixLength}${o.p ? ' P' : ''}`;
    case 'ipv4AddressAcknowledgement':
      return `ipv4-ack status=${o.status} ${o.address}/${o.prefixLength}`;
    case 'natDetection':
      return `nat-detection${o.f ? ' F' : ''} refresh=${o.refreshTime === 0xffffffff ? 'none' : `${o.refreshTime}s`}`;
    case 'ipv4CareOfAddress':
      return `ipv4-coa ${o.address}`;
    case 'unknown':
      return `option ${o.optionType} (${o.data.length}B)`;
  }
}

function messageText(m: MobilityMessage): string {
  const name = SHORT[m.kind];
  switch (m.kind) {
    case 'bindingUpdate':
      return `${name} seq=${m.sequence}${flagsText(m.flags)} lifetime=${m.lifetime}s`;
    case 'bindingAcknowledgement':
      return `${name} status=${m.status} seq=${m.sequence}${flagsText(m.flags)} lifetime=${m.lifetime}s`;
    case 'bindingError':
      return `${name} status=${m.status} hoa=${m.homeAddress}`;
    case 'homeTest':
    case 'careOfTest':
      return `${name} nonce-index=${m.nonceIndex}`;
    case 'unknown':
      return `${name} type=${m.mhType}`;
    default:
      return name;
  }
}

/** One line a person can read: `IPv4 a > b | UDP 1024 > 4191 | IPv6 c > d HAO=e | BU seq=...`. */
export function summarize(d: Dissection): string {
  const parts = d.layers.map(layerText);
  if (d.error) parts.push(`MALFORMED: ${d.error.message}`);
  return parts.join(' | ');
}

function layerText(l: Layer): string {
  switch (l.layer) {
    case 'ipv4':
      return `IPv4 ${l.header.src} > ${l.header.dst}`;
    case 'ipv6': {
      let s = `IPv6 ${l.header.src} > ${l.header.dst}`;
      for (const e of l.header.extensions) {
        if (e.kind === 'routingType2') s += ` RH2=${e.homeAddress}`;
        if (e.kind === 'destinationOptions') {
          for (const o of e.options) if (o.kind === 'homeAddress') s += ` HAO=${o.address}`;
        }
      }
      return s;
    }
    case 'udp':
      return `UDP ${l.srcPort} > ${l.dstPort}`;
    case 'esp':
      return `ESP spi=0x${l.spi.toString(16)} seq=${l.sequence}`;
    case 'mh': {
      const opts = 'options' in l.message ? l.message.options.map(optionText) : [];
      return messageText(l.message) + (opts.length ? ` [${opts.join(', ')}]` : '');
    }
    case 'data':
      return `proto ${l.protocol} ${l.length}B`;
  }
}
