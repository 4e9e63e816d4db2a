/**
 * UDP amplification vectors by the service (source) port of the reflected traffic, with the
 * smallest mean packet size that counts as amplified: normal answers of these services are small
 * (a DNS answer is usually < 512 bytes), reflected ones large (amplification factors from
 * US-CERT TA14-017A and the vectors' public write-ups).
 */
export const REFLECTION_PORTS: ReadonlyMap<number, { vector: string; minPacketBytes: number }> = new Map([
  [19, { vector: 'chargen', minPacketBytes: 200 }],
  [17, { vector: 'qotd', minPacketBytes: 200 }],
  [53, { vector: 'dns', minPacketBytes: 512 }],
  [69, { vector: 'tftp', minPacketBytes: 400 }],
  [111, { vector: 'portmap', minPacketBytes: 200 }],
  [123, { vector: 'ntp', minPacketBytes: 200 }],
  [137, { vector: 'netbios', minPacketBytes: 200 }],
  [161, { vector: 'snmp', minPacketBytes: 300 }],
  [389, { vector: 'cldap', minPacketBytes: 500 }],
  [520, { vector: 'rip', minPacketBytes: 300 }],
  [1434, { vector: 'mssql', minPacketBytes: 200 }],
  [1900, { vector: 'ssdp', minPacketBytes: 250 }],
  [3283, { vector: 'ard', minPacketBytes: 500 }],
  [3702, { vector: 'ws-discovery', minPacketBytes: 500 }],
  [5353, { vector: 'mdns', minPacketBytes: 300 }],
  [10001, { vector: 'ubiquiti', minPacketBytes: 150 }],
  [11211, { vector: 'memcached', minPacketBytes: 500 }],
  [37810, { vector: 'dvr-dhcpdiscover', minPacketBytes: 300 }],
]);

/** Per-port minimum sizes in a flat array for the hot path (0 = not a reflection port). */
export const REFLECTION_MIN_SIZE: Uint16Array = (() => {
  const a = new Uint16Array(65536);
  for (const [port, v] of REFLECTION_PORTS) a[port] = v.minPacketBytes;
  return a;
})();
