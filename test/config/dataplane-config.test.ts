import { describe, expect, it } from 'vitest';
import { parseHaConfig, parseMnConfig } from '../../src/config/validate.js';
import { configOf, errorsOf, exampleJson, patch } from './support.js';

const ha = exampleJson('ha.json');
const mn = exampleJson('mn.json');

describe('dataplane config', () => {
  it('is optional (signalling only), and {} takes the defaults', () => {
    expect(configOf(parseHaConfig(patch(ha, 'dataplane', undefined))).dataplane).toBeUndefined();
    expect(configOf(parseHaConfig(patch(ha, 'dataplane', {}))).dataplane).toEqual({
      tun: 'dsmip6ha',
      mtu: 1500,
    });
    expect(configOf(parseMnConfig(patch(mn, 'dataplane', {}))).dataplane).toEqual({
      tun: 'dsmip6',
      mtu: 1500,
    });
  });

  it('takes a home link on the home agent only', () => {
    expect(
      configOf(parseHaConfig(patch(ha, 'dataplane', { tun: 'ha0', homeLink: 'eth0', mtu: 9000 }))).dataplane,
    ).toEqual({
      tun: 'ha0',
      homeLink: 'eth0',
      mtu: 9000,
    });
    expect(errorsOf(parseMnConfig(patch(mn, 'dataplane', { homeLink: 'eth0' })))).toEqual([
      { path: 'mn.dataplane.homeLink', message: 'unknown key (expected one of tun, mtu)' },
    ]);
  });

  it('names the field and the fix for a bad value', () => {
    const errors = (json: unknown) => errorsOf(parseHaConfig(json)).map((e) => `${e.path}: ${e.message}`);
    expect(errors(patch(ha, 'dataplane', { mtu: 1280 }))).toEqual([
      expect.stringMatching(/^ha\.dataplane\.mtu: .*1280.*out of range.*1320-65535/),
    ]);
    expect(errors(patch(ha, 'dataplane', { tun: 'a-name-far-too-long' }))).toEqual([
      expect.stringMatching(/^ha\.dataplane\.tun: .*interface name/),
    ]);
    expect(errors(patch(ha, 'dataplane', { tun: 'eth0', homeLink: 'eth0' }))).toEqual([
      expect.stringMatching(/^ha\.dataplane\.homeLink: .*TUN device itself.*home link interface/),
    ]);
    expect(errors(patch(ha, 'dataplane', { tunn: 'x' }))).toEqual([
      'ha.dataplane.tunn: unknown key (did you mean "tun"?)',
    ]);
  });
});
