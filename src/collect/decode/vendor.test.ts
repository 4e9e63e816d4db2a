/**
 * Vendor information elements on the wire: the fixtures in testdata/vendor/ are export messages
 * built from the vendors' documented element definitions (README.md there; NOT captured from
 * devices). Each decodes to whole records with the vendors' documented names.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DecodedRecord, Fields, FlowRecord } from '../../common/schema/index.ts';
import { ieFor, ieForV9 } from './ie/registry.ts';
import { NTOP_V9_BASE, PEN } from './ie/vendors.ts';
import { collectingSink, datagram, testSession } from './testing.ts';
import {
  FLOW_END,
  FLOW_START,
  VENDOR_DIR,
  VENDOR_EXPORT_TIME,
  VENDOR_FIXTURES,
} from './testdata/vendor/make.ts';

function decodeFile(file: string): { records: DecodedRecord[]; kinds: string[] } {
  const { session } = testSession();
  const sink = collectingSink();
  session.decode(datagram(new Uint8Array(readFileSync(VENDOR_DIR + file)), '192.0.2.9'), sink);
  return { records: sink.records, kinds: sink.events.map((e) => e.kind) };
}

const flows = (rs: DecodedRecord[]): FlowRecord[] =>
  rs.filter((r): r is FlowRecord => r.recordType === 'flow');

const TUPLE = {
  sourceIPv4Address: '10.20.30.40',
  destinationIPv4Address: '198.51.100.7',
  sourceTransportPort: 51514,
  destinationTransportPort: 443,
  protocolIdentifier: 6,
};

/** The flow records each fixture must decode to (fields only; observation checked separately). */
const EXPECTED: Record<string, Fields[]> = {
  'cisco-asa-nsel-v9.bin': [
    {
      flowId: 1234567,
      ...TUPLE,
      postNATSourceIPv4Address: '203.0.113.10',
      postNATDestinationIPv4Address: '198.51.100.7',
      postNAPTSourceTransportPort: 61001,
      postNAPTDestinationTransportPort: 443,
      firewallEvent: 3,
      NF_F_FW_EXT_EVENT: 2026,
      observationTimeMilliseconds: FLOW_END,
      flowStartMilliseconds: FLOW_START,
      initiatorOctets: 0,
      responderOctets: 0,
      NF_F_INGRESS_ACL_ID: '0b1a2c3d4e5f60718293a4b5',
      NF_F_EGRESS_ACL_ID: '000000000000000000000000',
      NF_F_USERNAME: 'alice',
      icmpTypeIPv4: 0,
      icmpCodeIPv4: 0,
    },
    // ASA 8.4's private numbers 40001-40005 carry what IANA later assigned (225-228, 233).
    {
      flowId: 1234568,
      ...TUPLE,
      postNATSourceIPv4Address: '203.0.113.10',
      postNATDestinationIPv4Address: '198.51.100.7',
      postNAPTSourceTransportPort: 61001,
      postNAPTDestinationTransportPort: 443,
      firewallEvent: 1,
    },
  ],
  'cisco-nbar-ipfix.bin': [
    {
      ...TUPLE,
      applicationId: '0d0001c5',
      applicationName: 'ssl',
      appCategoryName: 'other',
      appSubCategoryName: 'other',
      appGroupName: 'other',
      appBusiness: 'business-relevant',
      appHTTPHost: 'www.example.org',
      clientIPv4Address: '10.20.30.40',
      serverIPv4Address: '198.51.100.7',
      clientTransportPort: 51514,
      serverTransportPort: 443,
      numRespsCountDelta: 3,
      sumRespTime: 87,
      sumServerNwkTime: 24,
      clientRetransPackets: 1,
      octetDeltaCount: 18230,
      packetDeltaCount: 31,
    },
  ],
  'juniper-ipfix.bin': [
    {
      ...TUPLE,
      destinationTransportPort: 80,
      juniperCommonPropertiesId: 4294967301,
      juniperFlowId: 77,
      juniperHttpHost: 'www.example.org',
      juniperHttpMethod: 'GET',
      juniperHttpResponseCode: 200,
      juniperHttpUserAgent: 'curl/7.88.1',
      juniperTdfGatewayIPv4Address: '192.0.2.1',
      juniperDnsResponseTime: FLOW_END,
    },
  ],
  'nokia-ipfix.bin': [
    {
      sourceIPv4Address: '100.64.12.34',
      sourceTransportPort: 40123,
      protocolIdentifier: 17,
      postNATSourceIPv4Address: '203.0.113.77',
      postNAPTSourceTransportPort: 1031,
      natEvent: 1,
      aluInsideServiceID: 100,
      aluOutsideServiceID: 200,
      aluNatSubString: 'LSN-Host@100.64.12.34',
      observationTimeMilliseconds: FLOW_START,
    },
  ],
  'netscaler-ipfix.bin': [
    {
      ...TUPLE,
      destinationTransportPort: 80,
      netscalerTransactionId: 9001,
      netscalerConnectionId: 4242,
      netscalerRoundTripTime: 12,
      netscalerHttpReqMethod: 'POST',
      netscalerHttpReqHost: 'app.example.org',
      netscalerHttpReqUrl: '/login',
      netscalerHttpReqUserAgent: 'Mozilla/5.0',
      netscalerHttpRspStatus: 302,
      netscalerHttpRspLen: 512,
      netscalerAppNameAppId: 17,
    },
  ],
  'paloalto-v9.bin': [
    { ...TUPLE, octetDeltaCount: 5120, packetDeltaCount: 12, APPID: 'ssl', USERID: 'example\\bob' },
  ],
  'vmware-ipfix.bin': [
    {
      sourceIPv4Address: '172.16.0.11',
      destinationIPv4Address: '172.16.0.12',
      sourceTransportPort: 49152,
      destinationTransportPort: 4789,
      protocolIdentifier: 17,
      tenantProtocol: 6,
      tenantSourceIPv4: '10.0.1.5',
      tenantDestIPv4: '10.0.2.9',
      tenantSourcePort: 33000,
      tenantDestPort: 5432,
      ingressInterfaceAttr: 3,
      egressInterfaceAttr: 1,
      vxlanExportRole: 1,
    },
  ],
  'ntop-ipfix.bin': [
    {
      ...TUPLE,
      L7_PROTO: 91,
      L7_PROTO_NAME: 'TLS',
      SSL_SERVER_NAME: 'www.example.org',
      CLIENT_NW_LATENCY_MS: 3,
      SERVER_NW_LATENCY_MS: 21,
      DNS_QUERY: '',
      RETRANSMITTED_IN_PKTS: 2,
    },
  ],
  'ntop-v9.bin': [
    {
      ...TUPLE,
      destinationTransportPort: 80,
      L7_PROTO: 7,
      L7_PROTO_NAME: 'HTTP',
      HTTP_HOST: 'www.example.org',
      HTTP_RET_CODE: 200,
    },
  ],
  'fortinet-v9.bin': [{ ...TUPLE, applicationId: '14003e8f', applicationName: 'HTTPS.BROWSER' }],
};

describe("vendor elements (fixtures built from the vendors' definitions)", () => {
  for (const fx of VENDOR_FIXTURES) {
    describe(fx.file, () => {
      it('is what testdata/vendor/make.ts builds (regenerating changes nothing)', () => {
        const stored = new Uint8Array(readFileSync(VENDOR_DIR + fx.file));
        expect(Buffer.from(stored).equals(Buffer.from(fx.bytes()))).toBe(true);
      });

      it(`decodes ${fx.vendor} records whole, under the documented names`, () => {
        const { records, kinds } = decodeFile(fx.file);
        expect(kinds.filter((k) => k === 'malformed' || k === 'template-missing')).toEqual([]);
        const got = flows(records);
        expect(got.map((r) => r.fields)).toEqual(EXPECTED[fx.file]);
        for (const r of got) {
          expect(r.protocol).toBe(fx.protocol);
          expect(r.samplingInterval).toBe(1);
          expect(r.observation.exporter).toBe('192.0.2.9');
          expect(r.observation.exportTime).toBe(VENDOR_EXPORT_TIME);
          // No field fell back to a synthesised name (unknown element).
          for (const name of Object.keys(r.fields)) expect(name).not.toMatch(/^(ie\d+|e\d+id\d+)$/);
        }
      });
    });
  }

  it('Cisco NBAR: the application table options record maps applicationId to its name', () => {
    const { records } = decodeFile('cisco-nbar-ipfix.bin');
    const opt = records.find((r) => r.recordType === 'options');
    expect(opt).toMatchObject({
      recordType: 'options',
      scope: { applicationId: '0d0001c5' },
      fields: { applicationName: 'ssl', applicationDescription: 'Secure Sockets Layer' },
    });
  });

  it('the names come from the vendor tables with their enterprise numbers', () => {
    expect(ieFor(PEN.cisco, 12235).name).toBe('appHTTPHost');
    expect(ieFor(PEN.cisco, 9292).name).toBe('numRespsCountDelta');
    expect(ieFor(PEN.juniper, 137).name).toBe('juniperCommonPropertiesId');
    expect(ieFor(PEN.nokia, 93).name).toBe('aluNatSubString');
    expect(ieFor(PEN.netscaler, 129).name).toBe('netscalerTransactionId');
    expect(ieFor(PEN.vmware, 882).name).toBe('tenantDestIPv4');
    expect(ieFor(PEN.ntop, 118).name).toBe('L7_PROTO');
    // NetFlow v9 vendor types: NSEL, PAN-OS and nProbe's NTOP_V9_BASE + id.
    expect(ieForV9(33002)).toMatchObject({ enterprise: PEN.cisco, name: 'NF_F_FW_EXT_EVENT' });
    expect(ieForV9(40000)).toMatchObject({ enterprise: PEN.cisco, name: 'NF_F_USERNAME' });
    expect(ieForV9(40005)).toMatchObject({ enterprise: 0, name: 'firewallEvent' });
    expect(ieForV9(56701)).toMatchObject({ enterprise: PEN.paloAlto, name: 'APPID' });
    expect(ieForV9(56702)).toMatchObject({ enterprise: PEN.paloAlto, name: 'USERID' });
    expect(ieForV9(NTOP_V9_BASE + 187)).toMatchObject({ enterprise: PEN.ntop, name: 'HTTP_HOST' });
  });

  it('IPFIX vendor fixtures carry the enterprise bit and PEN in their template field specifiers', () => {
    // Juniper's template: juniperCommonPropertiesId is specifier 0x8000|137, length 8, PEN 2636.
    const b = readFileSync(VENDOR_DIR + 'juniper-ipfix.bin');
    const spec = Buffer.from([0x80, 137, 0, 8, 0, 0, 0x0a, 0x4c]);
    expect(b.includes(spec)).toBe(true);
  });
});
