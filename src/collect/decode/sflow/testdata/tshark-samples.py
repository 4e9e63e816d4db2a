#!/usr/bin/env python3
"""Writes tshark's (Wireshark's) independent view of every sFlow sample of a capture as JSON.

Usage: tshark-samples.py CAPTURE.pcap PORT > NAME.samples.json

One entry per sample in datagram order: the datagram header fields, then for a flow sample its
header fields and what tshark decoded from the sampled packet header, for a counter sample its
generic interface counters. The sFlow decoder's tests compare every decoded record with this.
"""
import json
import subprocess
import sys

cap, port = sys.argv[1], sys.argv[2]
out = subprocess.run(
    ['tshark', '-r', cap, '-d', f'udp.port=={port},sflow', '-T', 'json', '--no-duplicate-keys'],
    capture_output=True, text=True, check=True,
).stdout


def num(v):
    return int(v, 0)


def flow(sample):
    s = {
        'kind': 'flow',
        'seq': num(sample['sflow.flow_sample.sequence_number']),
        'sourceIdType': num(sample['sflow.flow_sample.source_id_class']),
        'sourceIdIndex': num(sample['sflow.flow_sample.index']),
        'rate': num(sample['sflow.flow_sample.sampling_rate']),
        'pool': num(sample['sflow.flow_sample.sample_pool']),
        'drops': num(sample['sflow.flow_sample.dropped_packets']),
        'input': num(sample['sflow.flow_sample.input_interface']),
        'output': num(sample['sflow.flow_sample.output_interface_tree']['sflow.flow_sample.output_interface_value']),
    }
    sw = sample.get('Extended switch data')
    if sw:
        s['srcVlan'] = num(sw['sflow_245.vlan.in'])
        s['dstVlan'] = num(sw['sflow_245.vlan.out'])
    h = sample.get('Raw packet header')
    if h:
        s['headerProtocol'] = num(h['sflow_245.header_protocol'])
        s['frameLength'] = num(h['sflow_245.header.frame_length'])
        s['stripped'] = num(h['sflow_245.header.payload_stripped'])
        t = h.get('sflow_245.header_tree', {})
        if 'ip' in t:
            ip = t['ip']
            s.update(ipVersion=4, src=ip['ip.src'], dst=ip['ip.dst'], proto=num(ip['ip.proto']),
                     ttl=num(ip['ip.ttl']), tos=num(ip['ip.dsfield']), ipLength=num(ip['ip.len']))
        elif 'ipv6' in t:
            ip = t['ipv6']
            s.update(ipVersion=6, src=ip['ipv6.src'], dst=ip['ipv6.dst'], proto=num(ip['ipv6.nxt']),
                     ttl=num(ip['ipv6.hlim']), tos=num(ip['ipv6.tclass']), ipLength=num(ip['ipv6.plen']) + 40)
        if 'tcp' in t:
            tcp = t['tcp']
            s.update(srcPort=num(tcp['tcp.srcport']), dstPort=num(tcp['tcp.dstport']),
                     tcpFlags=num(tcp['tcp.flags']), tcpSeq=num(tcp['tcp.seq_raw']))
        elif 'udp' in t:
            udp = t['udp']
            s.update(srcPort=num(udp['udp.srcport']), dstPort=num(udp['udp.dstport']))
        for icmp, prefix in (('icmp', 'icmp'), ('icmpv6', 'icmpv6')):
            if icmp in t:
                s.update(icmpType=num(t[icmp][prefix + '.type']), icmpCode=num(t[icmp][prefix + '.code']))
    return s


GENERIC = {
    'ifIndex': 'ifindex', 'ifType': 'iftype', 'ifSpeed': 'ifspeed', 'ifDirection': 'ifdirection',
    'ifAdminStatus': 'ifadmin_status', 'ifOperStatus': 'ifoper_status', 'ifInOctets': 'ifinoct',
    'ifInUcastPkts': 'ifinpkt', 'ifInMulticastPkts': 'ifinmcast', 'ifInBroadcastPkts': 'ifinbcast',
    'ifInDiscards': 'ifindisc', 'ifInErrors': 'ifinerr', 'ifInUnknownProtos': 'ifinunk',
    'ifOutOctets': 'ifoutoct', 'ifOutUcastPkts': 'ifoutpkt', 'ifOutMulticastPkts': 'ifoutmcast',
    'ifOutBroadcastPkts': 'ifoutbcast', 'ifOutDiscards': 'ifoutdisc', 'ifOutErrors': 'ifouterr',
    'ifPromiscuousMode': 'ifpromisc',
}


def counters(sample):
    s = {
        'kind': 'counters',
        'seq': num(sample['sflow.counters_sample.sequence_number']),
        'sourceIdType': num(sample['sflow.counters_sample.source_id_type']),
        'sourceIdIndex': num(sample['sflow.counters_sample.source_id_index']),
    }
    g = sample.get('Generic interface counters')
    if g:
        s['generic'] = {k: num(g['sflow_245.' + v]) for k, v in GENERIC.items()}
    return s


samples = []
for frame in json.loads(out):
    d = frame['_source']['layers']['sflow']
    dg = {
        'agent': d.get('sflow_245.agent') or d.get('sflow_245.agent.v6'),
        'subAgentId': num(d['sflow_245.sub_agent_id']),
        'sequence': num(d['sflow_245.sequence_number']),
        'uptime': num(d['sflow_245.sysuptime']),
    }
    for key, sample in d.items():
        if key.startswith('Flow sample'):
            samples.append({'datagram': dg, **flow(sample)})
        elif key.startswith('Counters sample'):
            samples.append({'datagram': dg, **counters(sample)})

# One sample per line keeps the file small and its diffs readable.
head = {'command': f'tshark -r {cap} -d udp.port=={port},sflow -T json --no-duplicate-keys',
        'tool': subprocess.run(['tshark', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}
sys.stdout.write('{\n' + ''.join(f' {json.dumps(k)}: {json.dumps(v)},\n' for k, v in head.items()))
sys.stdout.write(' "samples": [\n' + ',\n'.join('  ' + json.dumps(x, separators=(',', ':')) for x in samples) + '\n ]\n}\n')
