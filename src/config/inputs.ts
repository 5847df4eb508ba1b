/**
 * From a validated config to the inputs of the supervisors in src/machines, so the daemons hand
 * the machines exactly what the file said and nothing is re-derived in two places.
 */

import type { HaDiscoveryInput } from '../machines/ha-discovery.js';
import type { HomeAgentInput } from '../machines/home-agent.js';
import type { MobileNodeInput } from '../machines/mobile-node.js';
import type { HaConfig, MnConfig, MnHomeAgentConfig } from './schema.js';

export function homeAgentInput(config: HaConfig): HomeAgentInput {
  return {
    homePrefix: config.homePrefix.text,
    ...(config.ipv4Pool && { ipv4Pool: config.ipv4Pool }),
    maxLifetimeSeconds: config.maxLifetimeSeconds,
    natKeepaliveSeconds: config.natKeepaliveSeconds,
    allowForceUdp: config.allowForceUdp,
  };
}

export function haDiscoveryInput(homeAgent: MnHomeAgentConfig): HaDiscoveryInput {
  if ('addresses' in homeAgent) return { configured: homeAgent.addresses.map((a) => ({ ...a })) };
  if ('name' in homeAgent) return { haName: homeAgent.name };
  return { domain: homeAgent.domain };
}

/** `initialSequence` is drawn at random by the caller (RFC 6275 §11.7.1), so it is not config. */
export function mobileNodeInput(config: MnConfig, initialSequence: number): MobileNodeInput {
  return {
    homeAddress: config.homeAddress,
    homePrefix: config.homePrefix.text,
    lifetimeSeconds: config.lifetimeSeconds,
    ...(config.ipv4HomeAddress !== undefined && { ipv4HomeAddress: config.ipv4HomeAddress }),
    forceUdp: config.forceUdp,
    discovery: haDiscoveryInput(config.homeAgent),
    initialSequence,
    settleMs: config.settleMs,
  };
}
