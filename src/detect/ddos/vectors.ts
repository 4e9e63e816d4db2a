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

/**
 * Per-port minimum sizes for the hot path, in a 64-cell open-addressed table (256 bytes, always
 * in cache): a flat 65,536-entry array would cost a cache miss for nearly every UDP record, whose
 * source ports are mostly random ephemeral ones.
 */
const SIZE_CELLS = 64;
const sizePorts = new Int32Array(SIZE_CELLS).fill(-1);
const sizeMins = new Uint16Array(SIZE_CELLS);
function sizeCell(port: number): number {
  return Math.imul(port, 0x9e3779b1) >>> 26;
}
for (const [port, v] of REFLECTION_PORTS) {
  let i = sizeCell(port);
  while (sizePorts[i] !== -1) i = (i + 1) & (SIZE_CELLS - 1);
  sizePorts[i] = port;
  sizeMins[i] = v.minPacketBytes;
}

/** Smallest mean packet size that counts as amplified for a source port (0 = not a reflection port). */
export function reflectionMinSize(port: number): number {
  for (let i = sizeCell(port); ; i = (i + 1) & (SIZE_CELLS - 1)) {
    const p = sizePorts[i]!;
    if (p === port) return sizeMins[i]!;
    if (p === -1) return 0;
  }
}
