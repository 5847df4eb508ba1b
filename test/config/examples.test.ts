import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseHaConfig, parseMnConfig } from '../../src/config/validate.js';
import { configOf, exampleFile, exampleJson } from './support.js';

describe('examples/', () => {
  it('ha.json and mn.json validate', () => {
    configOf(parseHaConfig(exampleJson('ha.json')));
    configOf(parseMnConfig(exampleJson('mn.json')));
  });

  it("mn.json's SA pair is the HA's entry for its home address, seen from the other end", () => {
    const ha = configOf(parseHaConfig(exampleJson('ha.json')));
    const mn = configOf(parseMnConfig(exampleJson('mn.json')));
    const entry = ha.securityAssociations.find((sa) => sa.homeAddress === mn.homeAddress);
    expect(entry).toBeDefined();
    expect(mn.securityAssociation.spiIn).toBe(entry!.spiOut);
    expect(mn.securityAssociation.spiOut).toBe(entry!.spiIn);
    expect(mn.securityAssociation.algorithm).toBe(entry!.algorithm);
    expect(mn.securityAssociation.encryptionKey).toEqual(entry!.encryptionKey);
    expect(mn.securityAssociation.authenticationKey).toEqual(entry!.authenticationKey);
    expect(mn.homePrefix).toEqual(ha.homePrefix);
  });

  it('the MN reaches the HA at the addresses the HA has', () => {
    const ha = configOf(parseHaConfig(exampleJson('ha.json')));
    const mn = configOf(parseMnConfig(exampleJson('mn.json')));
    expect(mn.homeAgent).toEqual({ addresses: [ha.addresses] });
  });

  it('use documentation addresses only', () => {
    const text = readFileSync(exampleFile('ha.json'), 'utf8') + readFileSync(exampleFile('mn.json'), 'utf8');
    const v6 = text.match(/"[0-9a-f]*:[0-9a-f:]*(\/\d+)?"/g) ?? [];
    for (const a of v6) expect(a).toMatch(/^"2001:db8:/);
    const v4 = text.match(/\b\d+\.\d+\.\d+\.\d+\b/g) ?? [];
    expect(v4.length).toBeGreaterThan(0);
    for (const a of v4) expect(a).toMatch(/^(192\.0\.2|198\.51\.100|203\.0\.113)\./);
  });

  it('the README and docs/configuration.md name every field of both files', () => {
    const readme = readFileSync(new URL('../../examples/README.md', import.meta.url), 'utf8');
    const docs = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    // Every key path, array elements as `[]`: 'ipv4Pool.start', 'securityAssociations[].spiIn'.
    const keys = (json: unknown, prefix = ''): string[] =>
      typeof json === 'object' && json !== null && !Array.isArray(json)
        ? Object.entries(json).flatMap(([k, v]) => [
            `${prefix}${k}`,
            ...(Array.isArray(v) ? keys(v[0], `${prefix}${k}[].`) : keys(v, `${prefix}${k}.`)),
          ])
        : [];
    for (const name of ['ha.json', 'mn.json'] as const) {
      for (const key of keys(exampleJson(name))) {
        expect(readme, `examples/README.md: ${key}`).toContain(`\`${key.split('.').pop()}\``);
        expect(docs, `docs/configuration.md: ${key}`).toContain(`\`${key}\``);
      }
    }
  });
});
