/**
 * Which states of a statechart are active, from an XState state value. Plain browser JS, shared
 * by app.js and the unit test.
 */

/**
 * @typedef {{ id: string, key: string, children?: StateNode[] }} StateNode
 * A state node of `statechartJson(machine).root` (only the fields used here).
 */

/**
 * The ids of every active state below the root, parents before children. For the value
 * `{ registration: 'registering', rateLimit: { slot1: 'busy' } }` of machine `bindingUpdate` that
 * is `bindingUpdate.registration`, `bindingUpdate.registration.registering`,
 * `bindingUpdate.rateLimit`, `bindingUpdate.rateLimit.slot1`, `bindingUpdate.rateLimit.slot1.busy`.
 * The root (the machine id itself) is not listed. With `root` the ids are looked up by key in the
 * state tree (so states with a custom id come out right); without it they are the keys joined by
 * dots, prefixed by the machine id.
 *
 * @param {string} machineId the machine's root state id
 * @param {unknown} value the snapshot's state value (a string or a nested object)
 * @param {StateNode} [root] the statechart's root node, if known
 * @returns {string[]}
 */
export function activeStateIds(machineId, value, root) {
  /** @type {string[]} */
  const out = [];
  /**
   * @param {string} parentId
   * @param {StateNode | undefined} parent
   * @param {unknown} v
   */
  const walk = (parentId, parent, v) => {
    if (typeof v === 'string') {
      const node = parent?.children?.find((c) => c.key === v);
      out.push(node ? node.id : `${parentId}.${v}`);
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [key, sub] of Object.entries(v)) {
        const node = parent?.children?.find((c) => c.key === key);
        const id = node ? node.id : `${parentId}.${key}`;
        out.push(id);
        walk(id, node, sub);
      }
    }
  };
  walk(machineId, root, value);
  return out;
}
