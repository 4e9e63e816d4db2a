import { describe, expect, it } from 'vitest';
import { ConfigError } from '../common/errors.ts';
import { parsePrefix } from '../common/prefixes/index.ts';
import { resolveSelectionConfig } from './config.ts';
import { demoSelectionConfig } from './demo.ts';
import { parseIndicatorList } from './documents.ts';
import { compileIndicators } from './selectors.ts';
import { AddressSet, DomainSet } from './sets.ts';

function keyOf(value: unknown): string {
  try {
    resolveSelectionConfig(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).key;
  }
  throw new Error('expected a ConfigError');
}

const feed = {
  id: 'f1',
  providerId: 'p',
  channel: 'transit-foreign-to-foreign',
  approvalIds: ['a1'],
  exporters: 'all',
};

describe('selection configuration', () => {
  it('applies defaults and converts durations', () => {
    const c = resolveSelectionConfig({ feeds: [feed], stopGraceMs: '30s' });
    expect(c).toMatchObject({
      mode: 'production',
      domesticCountry: 'JP',
      stopGraceMs: 30_000,
      maxClockSkewMs: 300_000,
    });
  });

  it('registers each feed with exactly one channel and its basis, naming the failing key', () => {
    expect(keyOf({ feeds: [{ ...feed, channel: 'everything' }] })).toBe('select.feeds.0.channel');
    expect(keyOf({ feeds: [{ ...feed, approvalIds: undefined }] })).toBe('select.feeds.0.approvalIds');
    expect(keyOf({ feeds: [{ ...feed, agreementId: 'x' }] })).toBe('select.feeds.0.agreementId');
    expect(keyOf({ feeds: [{ ...feed, channel: 'agreement-foreign-to-domestic' }] })).toBe(
      'select.feeds.0.agreementId',
    );
    expect(keyOf({ feeds: [feed, feed] })).toBe('select.feeds.1.id');
    expect(keyOf({ feeds: [{ ...feed, exporters: ['2001:DB8::1', '2001:db8::1'] }] })).toBe(
      'select.feeds.0.exporters.1',
    );
    expect(keyOf({ feeds: [{ ...feed, colour: 'red' }] })).toBe('select.feeds.0.colour');
    expect(keyOf({ stopGraceMs: 'soon' })).toBe('select.stopGraceMs');
  });

  it('builds the demonstration feed set: every channel plus operator telemetry, in demo mode', () => {
    const d = demoSelectionConfig('JP');
    expect(d.config.mode).toBe('demo');
    expect(d.config.feeds.map((f) => f.channel).sort()).toEqual(
      [
        'agreement-foreign-to-domestic',
        'operator-telemetry',
        'specified-domestic-to-foreign',
        'specified-foreign-to-domestic',
        'transit-foreign-to-foreign',
      ].sort(),
    );
    expect(d.documents).toHaveLength(7);
    expect(demoSelectionConfig('DE', { mode: 'eval' }).config).toMatchObject({
      domesticCountry: 'DE',
      mode: 'eval',
    });
  });
});

describe('indicator sets', () => {
  it('looks addresses and prefixes up in sorted merged ranges (IPv4, IPv6, embedded IPv4)', () => {
    const s = new AddressSet(
      ['10.0.0.0/8', '10.1.0.0/16', '192.0.2.7/32', '2001:db8::/32', '11.0.0.0/8'].map(parsePrefix),
    );
    expect(s.size).toBe(3 + 1 - 1); // 10/8 and 11/8 merge; 10.1/16 is inside
    expect(s.has4(0x0a010203)).toBe(true);
    expect(s.has4(0x0b000001)).toBe(true);
    expect(s.has4(0xc0000207)).toBe(true);
    expect(s.has4(0xc0000208)).toBe(false);
    expect(s.has6(0x20010db8, 0, 0, 1)).toBe(true);
    expect(s.has6(0x20010db9, 0, 0, 1)).toBe(false);
    expect(s.has6(0, 0, 0xffff, 0xc0000207)).toBe(true); // ::ffff:192.0.2.7
    expect(AddressSet.EMPTY.has4(1)).toBe(false);
  });

  it('matches domains and their subdomains', () => {
    const d = new DomainSet(['Evil.Example.', 'c2.test']);
    expect(d.matches('evil.example')).toBe(true);
    expect(d.matches('a.b.EVIL.example')).toBe(true);
    expect(d.matches('notevil.example')).toBe(false);
    expect(d.matches('test')).toBe(false);
  });

  it('compiles indicator values and refuses junk by index only', () => {
    const m = compileIndicators(['198.51.100.7', '203.0.113.0/24', 'bad.example', '2001:db8::/48']);
    expect(m.addresses.size).toBe(3);
    expect(m.domains.size).toBe(1);
    expect(() => compileIndicators(['ok.example', 'not a domain!'])).toThrow(/indicator 1 /);
    expect(() => compileIndicators(['10.0.0.1/8'])).toThrow(/indicator 0 /);
    expect(parseIndicatorList('# c2\n198.51.100.7\n\n evil.example # note\n')).toEqual([
      '198.51.100.7',
      'evil.example',
    ]);
  });
});
