import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  IANA_CSV_PATH,
  IANA_TS_PATH,
  IanaCsvError,
  buildIanaTable,
  generateFromStoredCsv,
  parseCsv,
} from './gen.ts';
import { IANA_IES, IANA_VERSION } from './iana.ts';
import { REVERSE_PEN, allIes, ieByName, ieFor, ieForV9, isKnownIe } from './registry.ts';
import { RFC3954_NAMES, V9_VENDOR_FIELDS } from './v9.ts';
import { NTOP_V9_BASE, PEN, VENDOR_IES, VENDOR_IES_BY_VENDOR } from './vendors.ts';

describe('IANA information elements', () => {
  it('says which registry revision it was generated from', () => {
    expect(IANA_VERSION).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(IANA_VERSION).toBe('2024-10-23');
  });

  it('holds every assigned id of the registry, deprecated ones included', () => {
    expect(IANA_IES).toHaveLength(500);
    expect(ieFor(0, 529).name).toBe('udpUnsafeExIDList');
    expect(ieFor(0, 34)).toMatchObject({ name: 'samplingInterval', deprecated: true });
    expect(isKnownIe(0, 97)).toBe(false); // reserved for NetFlow v9 compatibility
    expect(isKnownIe(0, 0)).toBe(false);
  });

  it.each([
    [1, 'octetDeltaCount', 'unsigned64', 'deltaCounter', 'octets'],
    [2, 'packetDeltaCount', 'unsigned64', 'deltaCounter', 'packets'],
    [4, 'protocolIdentifier', 'unsigned8', 'identifier', undefined],
    [6, 'tcpControlBits', 'unsigned16', 'flags', undefined],
    [7, 'sourceTransportPort', 'unsigned16', 'identifier', undefined],
    [8, 'sourceIPv4Address', 'ipv4Address', 'default', undefined],
    [12, 'destinationIPv4Address', 'ipv4Address', 'default', undefined],
    [27, 'sourceIPv6Address', 'ipv6Address', 'default', undefined],
    [152, 'flowStartMilliseconds', 'dateTimeMilliseconds', 'default', 'milliseconds'],
    [153, 'flowEndMilliseconds', 'dateTimeMilliseconds', 'default', 'milliseconds'],
    [176, 'icmpTypeIPv4', 'unsigned8', 'identifier', undefined],
    [233, 'firewallEvent', 'unsigned8', undefined, undefined],
    [291, 'basicList', 'basicList', 'list', undefined],
    [292, 'subTemplateList', 'subTemplateList', 'list', undefined],
    [302, 'selectorId', 'unsigned64', 'identifier', undefined],
    [305, 'samplingPacketInterval', 'unsigned32', 'quantity', 'packets'],
    [520, 'tcpOptionsFull', 'unsigned256', 'flags', undefined],
  ])('element %i is %s (%s)', (id, name, type, semantics, units) => {
    const d = ieFor(0, id);
    expect(d).toMatchObject({ enterprise: 0, id, name, type });
    expect(d.semantics).toBe(semantics);
    expect(d.units).toBe(units);
    expect(ieByName(name)).toBe(d);
  });

  it('keeps nameless deprecated duplicates under their synthesised name', () => {
    expect(ieFor(0, 416)).toMatchObject({ name: 'ie416', type: 'octetArray', deprecated: true });
  });
});

describe('RFC 5103 reverse elements', () => {
  it('derives a reverse twin with PEN 29305 for reversible elements', () => {
    expect(ieFor(REVERSE_PEN, 1)).toMatchObject({
      enterprise: REVERSE_PEN,
      id: 1,
      name: 'reverseOctetDeltaCount',
      type: 'unsigned64',
    });
    expect(ieFor(REVERSE_PEN, 8).name).toBe('reverseSourceIPv4Address');
    expect(ieByName('reverseFlowStartMilliseconds')?.id).toBe(152);
  });

  it.each([
    [148, 'flowId'],
    [149, 'observationDomainId'],
    [145, 'templateId'],
    [137, 'commonPropertiesId'],
    [210, 'paddingOctets'],
    [239, 'biflowDirection'],
    [130, 'exporterIPv4Address'],
    [173, 'flowKeyIndicator'],
    [41, 'exportedMessageTotalCount'],
    [163, 'observedFlowTotalCount'],
  ])('has no reverse twin for non-reversible %i (%s)', (id, name) => {
    expect(ieFor(0, id).name).toBe(name);
    expect(isKnownIe(REVERSE_PEN, id)).toBe(false);
    expect(ieFor(REVERSE_PEN, id).name).toBe(`e${REVERSE_PEN}id${id}`);
  });

  it('reverses all other typed elements', () => {
    expect(IANA_IES.filter((d) => d.reversible)).toHaveLength(473);
  });
});

describe('NetFlow v9 field types', () => {
  it('maps RFC 3954 types to the IANA element with the same number', () => {
    for (const t of Object.keys(RFC3954_NAMES).map(Number)) {
      if (t === 48) continue; // widened, see below
      expect(ieForV9(t)).toBe(ieFor(0, t));
    }
    expect(ieForV9(1).name).toBe('octetDeltaCount');
    expect(ieForV9(21).name).toBe('flowEndSysUpTime');
    expect(ieForV9(41).name).toBe('exportedMessageTotalCount');
  });

  it('widens FLOW_SAMPLER_ID, which exporters send in more than one octet', () => {
    expect(ieForV9(48)).toMatchObject({ name: 'samplerId', type: 'unsigned32' });
  });

  it('maps Cisco ASA NSEL types, preferring IANA elements', () => {
    expect(ieForV9(33002)).toMatchObject({
      enterprise: PEN.cisco,
      name: 'NF_F_FW_EXT_EVENT',
      type: 'unsigned16',
    });
    expect(ieForV9(33000).name).toBe('NF_F_INGRESS_ACL_ID');
    expect(ieForV9(40000)).toMatchObject({ name: 'NF_F_USERNAME', type: 'string' });
    expect(ieForV9(40005)).toBe(ieFor(0, 233));
    expect(ieForV9(40005).name).toBe('firewallEvent');
    expect(ieForV9(233).name).toBe('firewallEvent');
    expect(ieForV9(40001).name).toBe('postNATSourceIPv4Address');
    expect(ieForV9(231).name).toBe('initiatorOctets');
    expect(ieForV9(232).name).toBe('responderOctets');
    expect(ieForV9(323).name).toBe('observationTimeMilliseconds');
    expect(ieForV9(225).name).toBe('postNATSourceIPv4Address');
  });

  it('maps ntop nProbe and Palo Alto types', () => {
    expect(ieForV9(NTOP_V9_BASE + 118)).toMatchObject({ enterprise: PEN.ntop, id: 118, name: 'L7_PROTO' });
    expect(ieForV9(57552).name).toBe('SRC_FRAGMENTS');
    expect(ieForV9(56701)).toMatchObject({ enterprise: PEN.paloAlto, name: 'APPID', type: 'string' });
  });

  it('synthesises names for unknown types', () => {
    expect(ieForV9(65)).toMatchObject({ name: 'ie65', type: 'octetArray' });
    expect(ieForV9(60000).name).toBe('ie60000');
  });
});

describe('vendor elements', () => {
  it.each([
    [PEN.cisco, 12235, 'appHTTPHost', 'string'],
    [PEN.cisco, 9303, 'sumRespTime', 'unsigned32'],
    [PEN.juniper, 137, 'juniperCommonPropertiesId', 'unsigned64'],
    [PEN.nokia, 93, 'aluNatSubString', 'string'],
    [PEN.netscaler, 130, 'netscalerHttpReqUrl', 'string'],
    [PEN.paloAlto, 56702, 'USERID', 'string'],
    [PEN.vmware, 881, 'tenantSourceIPv4', 'ipv4Address'],
    [PEN.ntop, 180, 'HTTP_URL', 'string'],
  ])('PEN %i element %i is %s', (pen, id, name, type) => {
    expect(ieFor(pen, id)).toMatchObject({ enterprise: pen, id, name, type });
    expect(ieByName(name)).toBe(ieFor(pen, id));
  });

  it('lists every vendor the issue names, Fortinet with no enterprise elements', () => {
    for (const [vendor, ies] of Object.entries(VENDOR_IES_BY_VENDOR)) {
      if (vendor === 'fortinet') expect(ies).toHaveLength(0);
      else expect(ies.length).toBeGreaterThan(0);
      for (const d of ies) expect(d.enterprise).toBe(PEN[vendor as keyof typeof PEN]);
    }
  });

  it('synthesises names for unknown enterprise elements', () => {
    expect(ieFor(PEN.cisco, 1)).toMatchObject({ name: 'e9id1', type: 'octetArray' });
  });
});

describe('names', () => {
  it('name exactly one (enterprise, id) each, across IANA, reverse, vendor and v9 vendor types', () => {
    const seen = new Map<string, string>();
    const defs = [...allIes(), ...V9_VENDOR_FIELDS.map((f) => f.ie)];
    for (const d of defs) {
      const k = `${d.enterprise}/${d.id}`;
      const prev = seen.get(d.name);
      if (prev !== undefined && prev !== k) expect.fail(`${d.name} names both ${prev} and ${k}`);
      seen.set(d.name, k);
      expect(d.name).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
    }
    expect(new Set(VENDOR_IES.map((d) => `${d.enterprise}/${d.id}`)).size).toBe(VENDOR_IES.length);
  });

  it('prefer IANA names', () => {
    expect(ieByName('flowId')).toBe(ieFor(0, 148));
    expect(ieByName('octetDeltaCount')?.enterprise).toBe(0);
  });
});

describe('gen-ies generator', () => {
  it('reproduces the committed iana.ts from the stored CSV', async () => {
    const [generated, committed] = await Promise.all([
      generateFromStoredCsv(),
      readFile(IANA_TS_PATH, 'utf8'),
    ]);
    expect(generated).toBe(committed);
  });

  it('parses quoted CSV fields with commas, quotes and newlines', () => {
    expect(parseCsv('a,"b,""c""\nd",e\r\n1,2,3\n')).toEqual([
      ['a', 'b,"c"\nd', 'e'],
      ['1', '2', '3'],
    ]);
  });

  it('rejects a CSV of another shape with a typed error', async () => {
    expect(() => buildIanaTable('ElementID,Name\n1,x\n')).toThrow(IanaCsvError);
    const csv = await readFile(IANA_CSV_PATH, 'utf8');
    expect(() =>
      buildIanaTable(csv.replace('1,octetDeltaCount,unsigned64', '1,octetDeltaCount,unsigned65')),
    ).toThrow(IanaCsvError);
  });
});
