/**
 * Every protocol machine dsmip6 has, in one list. Whatever works on "all the machines" reads it:
 * `npm run statecharts` (statecharts/<name>.json and .md), the statechart drift test, and the
 * test generator's `--machine NAME`. A machine that is not listed here has no committed
 * statechart, so add each new machine's model below.
 */

import { bindingCacheEntryModel } from '../machines/binding-cache-entry.js';
import { bindingUpdateModel } from '../machines/binding-update.js';
import { haDiscoveryModel } from '../machines/ha-discovery.js';
import { homeAgentModel } from '../machines/home-agent.js';
import { mobileNodeModel } from '../machines/mobile-node.js';
import { movementModel } from '../machines/movement.js';
import { natKeepaliveModel } from '../machines/nat-keepalive.js';

export const machineModels = [
  bindingUpdateModel,
  bindingCacheEntryModel,
  natKeepaliveModel,
  haDiscoveryModel,
  movementModel,
  mobileNodeModel,
  homeAgentModel,
] as const;

export type RegisteredModel = (typeof machineModels)[number];

/** The names `findModel` accepts, in registry order. */
export const machineNames: readonly string[] = machineModels.map((m) => m.name);

/** The registered model called `name`; throws an Error that lists the valid names otherwise. */
export function findModel(name: string): RegisteredModel {
  const found = machineModels.find((m) => m.name === name);
  if (found === undefined) {
    throw new Error(`unknown machine ${JSON.stringify(name)}; valid names: ${machineNames.join(', ')}`);
  }
  return found;
}
