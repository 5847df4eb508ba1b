/**
 * What the actor layer needs from IPsec: seal an outgoing Mobility Header packet with the SA of a
 * home address, and open an incoming one, learning which home address's SA protected it (the HA
 * accepts a BU only on the SA of its home address, RFC 6275 §5.1, RFC 4877 §4.2).
 */

import { openMobilityPacket, sealMobilityPacket } from '../security/esp.js';
import type { SecurityAssociationDatabase } from '../security/sa.js';
import type { Ipv6Packet, MobilityMessage, MobilityPacketFields } from '../wire/index.js';

export type Opened =
  | {
      readonly ok: true;
      readonly ipv6: Ipv6Packet;
      readonly message: MobilityMessage;
      /** The home address the protecting SA belongs to. */
      readonly saHomeAddress: string;
    }
  | { readonly ok: false; readonly reason: string };

export interface MobilityCrypto {
  /** A whole IPv6 packet: IPv6 / [RH2] / [HAO] / ESP / MH, protected by the SA of `homeAddress`. */
  seal(fields: MobilityPacketFields, message: MobilityMessage, homeAddress: string): Uint8Array;
  /** Never throws: a packet that fails ESP or parsing comes back with the reason. */
  open(ipv6Packet: Uint8Array): Opened;
}

/** The MobilityCrypto of an SA database: ESP transport mode (src/security). */
export function espMobilityCrypto(sad: SecurityAssociationDatabase): MobilityCrypto {
  return {
    seal(fields, message, homeAddress) {
      const sa = sad.outbound(homeAddress);
      if (!sa) throw new Error(`no outbound security association for home address ${homeAddress}`);
      return sealMobilityPacket(fields, message, sa);
    },
    open(packet) {
      const r = openMobilityPacket(sad, packet);
      return r.ok
        ? { ok: true, ipv6: r.ipv6, message: r.message, saHomeAddress: r.sa.homeAddress }
        : { ok: false, reason: r.reason };
    },
  };
}
