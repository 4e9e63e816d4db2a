#!/usr/bin/env bash
# Re-makes the real-exporter fixtures of src/collect/decode/testdata/.
#
# What it does (details and the exact commands are in src/collect/decode/testdata/README.md):
#   1. traffic.pcap: real clients (curl, dig, ssh, ping) talk to real local servers (python3
#      http.server, dnsmasq, sshd) on loopback while tcpdump records. Made only when missing or
#      with --new-traffic, because every other fixture is derived from it.
#   2. For each exporter configuration (softflowd v5/v9/IPFIX/sampled/biflow/TCP, pmacctd nfprobe
#      v5/v9/IPFIX/sampled, pmacctd sfprobe sFlow v5): the exporter reads traffic.pcap and sends
#      to 127.0.0.1:PORT; tcpdump records the export (NAME.pcap), a UDP sink appends every
#      datagram back to back (NAME.raw, as `nc -u -l > file` would) and forwards it to nfcapd,
#      whose files give the ground truth NAME.nfdump.csv.
#   3. tshark's independent decoding: NAME.tshark.json and the counts in EXPECTED.md.
#
# Everything runs in a private network namespace (unshare -n) with its own loopback (MTU 1500,
# segmentation offloads off, so captured TCP segments look like a real wire), so fixed ports never
# collide with other programs and the captures hold only our packets. Needs root, Node.js and the
# Debian packages: softflowd pmacct nfdump tcpdump tshark netcat-openbsd dnsmasq-base
# openssh-server dnsutils iputils-ping curl ethtool python3.
#
# Usage: scripts/make-fixtures.sh [--new-traffic] [--only NAME]
set -euo pipefail
export TZ=UTC LC_ALL=C

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT="$REPO/src/collect/decode/testdata"
ORIG_ARGS=("$@")
NEW_TRAFFIC=0
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --new-traffic) NEW_TRAFFIC=1 ;;
    --only) ONLY="$2"; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ "${ACD_FIXTURES_NETNS:-}" != 1 ]]; then
  exec unshare --net env ACD_FIXTURES_NETNS=1 "$0" "${ORIG_ARGS[@]}"
fi

# --- private loopback -------------------------------------------------------------------------
ip link set lo up
ip link set lo mtu 1500
ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || echo "warning: could not turn off offloads" >&2

WORK=$(mktemp -d /tmp/acd-fixtures.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT"

log() { printf '== %s\n' "$*" >&2; }

# Waits until a file exists (a readiness marker) or fails after ~10 s.
wait_file() {
  for _ in $(seq 1 100); do [[ -s "$1" ]] && return 0; sleep 0.1; done
  echo "timeout waiting for $1" >&2
  return 1
}

# Starts tcpdump writing to $1 with filter $2; sets TCPDUMP_PID once it is really capturing.
start_tcpdump() {
  local file=$1 filter=$2
  tcpdump -i lo -n -U --immediate-mode -Z root -s 0 -w "$file" "$filter" 2>"$WORK/tcpdump.err" &
  TCPDUMP_PID=$!
  PIDS+=("$TCPDUMP_PID")
  for _ in $(seq 1 100); do grep -q 'listening on' "$WORK/tcpdump.err" && break; sleep 0.1; done
  sleep 0.3
}
stop_tcpdump() {
  sleep 0.5
  kill -INT "$TCPDUMP_PID"
  wait "$TCPDUMP_PID" 2>/dev/null || true
}

# --- 1. traffic capture -----------------------------------------------------------------------
make_traffic() {
  log "traffic capture"
  local t="$WORK/traffic"
  mkdir -p "$t/www" /run/sshd
  # Deterministic content: a small index page and a ~120 KiB download.
  python3 - "$t/www" <<'EOF'
import hashlib, sys, os
d = sys.argv[1]
open(os.path.join(d, 'index.html'), 'w').write('<!doctype html><title>acd fixture</title><p>hello from acd</p>\n')
open(os.path.join(d, 'api.json'), 'w').write('{"status":"ok","items":[1,2,3]}\n')
blob = bytearray()
h = b'acd-fixture'
while len(blob) < 120 * 1024:
    h = hashlib.sha256(h).digest()
    blob += h
open(os.path.join(d, 'download.bin'), 'wb').write(bytes(blob[:120 * 1024]))
EOF

  # Servers, each on its own loopback address so that flows have distinct endpoints (as on a
  # real network): HTTP 127.0.0.80 / fd00:acd::80, DNS 127.0.0.53 / fd00:acd::53 (dnsmasq,
  # authoritative for acd.test), SSH 127.0.0.22 / fd00:acd::22 on port 2222. Clients use
  # 127.0.0.1 (and 127.0.0.2), ::1 and fd00:acd::1.
  local a
  for a in 80 53 22 1; do ip -6 addr add "fd00:acd::$a/128" dev lo nodad; done
  (cd "$t/www" && exec python3 -m http.server 8080 --bind 127.0.0.80 >"$t/http4.log" 2>&1) &
  PIDS+=($!)
  (cd "$t/www" && exec python3 -m http.server 8080 --bind fd00:acd::80 >"$t/http6.log" 2>&1) &
  PIDS+=($!)
  dnsmasq --keep-in-foreground --port=53 --listen-address=127.0.0.53,fd00:acd::53 --bind-interfaces \
    --no-resolv --no-hosts --user=root --pid-file="$t/dnsmasq.pid" --local=/acd.test/ \
    --address=/www.acd.test/192.0.2.80 --address=/www.acd.test/2001:db8::80 \
    --mx-host=acd.test,mail.acd.test,10 --txt-record=acd.test,"v=spf1 -all" \
    --host-record=mail.acd.test,192.0.2.25 >"$t/dnsmasq.log" 2>&1 &
  PIDS+=($!)
  ssh-keygen -q -t ed25519 -N '' -C acd-fixture-host -f "$t/host_key"
  ssh-keygen -q -t ed25519 -N '' -C acd-fixture-client -f "$t/client_key"
  cp "$t/client_key.pub" "$t/authorized_keys"
  cat >"$t/sshd_config" <<EOF
Port 2222
ListenAddress 127.0.0.22
ListenAddress fd00:acd::22
HostKey $t/host_key
AuthorizedKeysFile $t/authorized_keys
PermitRootLogin yes
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile $t/sshd.pid
EOF
  /usr/sbin/sshd -D -e -f "$t/sshd_config" 2>"$t/sshd.log" &
  PIDS+=($!)
  sleep 1

  start_tcpdump "$t/traffic.pcap" "not port 2055 and not port 4739 and not port 6343"
  local SSH=(ssh -F /dev/null -i "$t/client_key" -p 2222 -o StrictHostKeyChecking=no
    -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR)
  local DIG=(dig +tries=1 +time=2)
  # DNS over UDP: A, AAAA, MX, TXT, a name that does not exist (NXDOMAIN), and one over IPv6.
  "${DIG[@]}" @127.0.0.53 www.acd.test A >/dev/null
  sleep 0.2
  "${DIG[@]}" @127.0.0.53 www.acd.test AAAA >/dev/null
  sleep 0.2
  "${DIG[@]}" @127.0.0.53 acd.test MX >/dev/null
  "${DIG[@]}" @127.0.0.53 acd.test TXT >/dev/null
  "${DIG[@]}" @127.0.0.53 nothere.acd.test A >/dev/null
  "${DIG[@]}" -b fd00:acd::1 @fd00:acd::53 mail.acd.test A >/dev/null
  sleep 0.3
  # HTTP over IPv4: several small requests on separate connections, two on one keep-alive
  # connection, one larger download, one from another source address, one 404.
  local H4=http://127.0.0.80:8080
  for path in / /api.json /; do curl -s -o /dev/null "$H4$path"; sleep 0.2; done
  curl -s -o /dev/null -o /dev/null "$H4/" "$H4/api.json"
  curl -s -o /dev/null "$H4/download.bin"
  curl -s -o /dev/null --interface 127.0.0.2 "$H4/api.json"
  curl -s -o /dev/null "$H4/missing"
  sleep 0.3
  # HTTP over IPv6, from ::1 and from fd00:acd::1.
  curl -s -g -o /dev/null --interface ::1 "http://[fd00:acd::80]:8080/"
  curl -s -g -o /dev/null --interface fd00:acd::1 "http://[fd00:acd::80]:8080/api.json"
  sleep 0.3
  # SSH: an authenticated session running a command over IPv4, and a short one over IPv6.
  "${SSH[@]}" root@127.0.0.22 'echo acd-fixture; uname -s' >/dev/null
  sleep 0.3
  "${SSH[@]}" -b ::1 root@fd00:acd::22 'true' >/dev/null
  # ICMP echo on IPv4 and ICMPv6 echo from ::1.
  ping -c 3 -i 0.2 -q 127.0.0.80 >/dev/null
  ping -6 -c 2 -i 0.2 -q -I ::1 fd00:acd::80 >/dev/null
  # A refused TCP connection (RST) and a UDP datagram to a closed port (ICMP port unreachable).
  curl -s -o /dev/null --max-time 2 "http://127.0.0.80:8081/" || true
  printf 'ping' | nc -u -w 1 127.0.0.53 9999 || true
  sleep 0.5
  stop_tcpdump
  cp "$t/traffic.pcap" "$OUT/traffic.pcap"
  for p in "${PIDS[@]}"; do [[ "$p" == "$TCPDUMP_PID" ]] || kill "$p" 2>/dev/null || true; done
  PIDS=()
  sleep 0.5
}

if [[ $NEW_TRAFFIC == 1 || ! -s "$OUT/traffic.pcap" ]]; then
  make_traffic
fi

# --- 2. exports -------------------------------------------------------------------------------

# A UDP sink: appends each datagram to the raw file (back to back, like `nc -u -l > file`) and
# forwards it to nfcapd, so both see exactly the bytes that went over the wire.
UDP_SINK_JS='
const dgram = require("node:dgram"); const fs = require("node:fs");
const [port, raw, fwdPort, ready] = process.argv.slice(1);
const fd = fs.openSync(raw, "w"); let n = 0;
const out = dgram.createSocket("udp4");
const s = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
s.on("message", (m) => { fs.writeSync(fd, m); n++; if (Number(fwdPort) > 0) out.send(m, Number(fwdPort), "127.0.0.1"); });
process.on("SIGTERM", () => { fs.closeSync(fd); fs.writeFileSync(ready, "received " + n + "\n"); process.exit(0); });
s.bind(Number(port), "127.0.0.1", () => fs.writeFileSync(ready, "ready\n"));
'

# run_export NAME udp|tcp PORT NFCAPD(0|1) COMMAND...: runs one exporter while tcpdump records the
# export and a sink saves it; with NFCAPD=1 nfcapd collects the same datagrams for the ground truth.
run_export() {
  local name=$1 transport=$2 port=$3 with_nfcapd=$4
  shift 4
  [[ -n "$ONLY" && "$ONLY" != "$name" ]] && return 0
  log "$name"
  local d="$WORK/$name" fwd=0 sink
  mkdir -p "$d/nfcapd"
  if [[ $with_nfcapd == 1 ]]; then
    fwd=$((port + 10000))
    nfcapd -b 127.0.0.1 -p "$fwd" -w "$d/nfcapd" -t 3600 -P "$d/nfcapd.pid" >"$d/nfcapd.log" 2>&1 &
    NFCAPD_PID=$!
    PIDS+=("$NFCAPD_PID")
    sleep 1
  fi
  if [[ $transport == udp ]]; then
    node -e "$UDP_SINK_JS" "$port" "$d/$name.raw" "$fwd" "$d/sink.state" &
    sink=$!
    PIDS+=("$sink")
    wait_file "$d/sink.state"
  else
    # IPFIX over TCP (RFC 7011 section 10.4): the stream itself is the raw file.
    nc -l 127.0.0.1 "$port" >"$d/$name.raw" &
    sink=$!
    PIDS+=("$sink")
    sleep 0.5
  fi
  start_tcpdump "$d/$name.pcap" "$transport port $port"
  # pmacctd sometimes exits non-zero when its plugin finished first ("connection lost to
  # plugin"); what counts is that the export arrived, checked below.
  (cd "$OUT" && "$@") >"$d/exporter.log" 2>&1 || log "$name: exporter exited with $? (see below)"
  # pmacctd's plugins flush their caches after the core process has exited: give them time.
  sleep 2
  stop_tcpdump
  if [[ $transport == udp ]]; then
    rm -f "$d/sink.state"
    kill -TERM "$sink"
    wait "$sink" 2>/dev/null || true
    log "$name: sink $(cat "$d/sink.state")"
  else
    wait "$sink" 2>/dev/null || true
  fi
  if [[ ! -s "$d/$name.raw" ]]; then
    echo "no export received from: $*" >&2
    cat "$d/exporter.log" >&2
    return 1
  fi
  cp "$d/$name.pcap" "$d/$name.raw" "$OUT/"
  if [[ $with_nfcapd == 1 ]]; then
    sleep 0.5
    kill -TERM "$NFCAPD_PID"
    wait "$NFCAPD_PID" 2>/dev/null || true
    # nfcapd's own tally, including the sequence errors it counted (exporter quirks show here).
    grep -h 'Sequence Errors' "$d/nfcapd.log" >"$OUT/$name.nfcapd.txt" || true
    nfdump -q -N -R "$d/nfcapd" -O tstart \
      -o "fmt:%ts,%te,%pr,%sa,%sp,%da,%dp,%flg,%pkt,%byt,%opkt,%obyt" >"$d/fmt.txt"
    {
      echo "ts,te,pr,sa,sp,da,dp,flg,ipkt,ibyt,opkt,obyt"
      sed -e 's/ *, */,/g' -e 's/^ *//' -e 's/ *$//' "$d/fmt.txt"
    } >"$OUT/$name.nfdump.csv"
  fi
}

# softflowd: reads the capture, exports, exits (-c none: no control socket to wait on; -A milli:
# absolute millisecond timestamps, without which its v9/IPFIX times are wrong).
SFD=(softflowd -d -r traffic.pcap -A milli -c none -p "$WORK/softflowd.pid")
run_export softflowd-v5 udp 2055 1 "${SFD[@]}" -n 127.0.0.1:2055 -v 5
run_export softflowd-v9 udp 2055 1 "${SFD[@]}" -n 127.0.0.1:2055 -v 9
run_export softflowd-ipfix udp 4739 1 "${SFD[@]}" -n 127.0.0.1:4739 -v 10
run_export softflowd-ipfix-sampled udp 4739 1 "${SFD[@]}" -n 127.0.0.1:4739 -v 10 -s 4
run_export softflowd-ipfix-biflow udp 4739 1 "${SFD[@]}" -n 127.0.0.1:4739 -v 10 -b
run_export softflowd-ipfix-tcp tcp 4739 0 "${SFD[@]}" -n 127.0.0.1:4739 -v 10 -P tcp

# pmacctd: reads the capture (pcap_savefile) and exits when done (pcap_savefile_wait: false);
# the nfprobe plugin exports NetFlow/IPFIX, the sfprobe plugin sFlow v5.
# pmacct_conf NAME PLUGIN-LINES...: writes $WORK/NAME.conf.
pmacct_conf() {
  local name=$1
  shift
  {
    echo "daemonize: false"
    echo "pcap_savefile: traffic.pcap"
    echo "pcap_savefile_wait: false"
    printf '%s\n' "$@"
  } >"$OUT/$name.conf"
}
NF_AGG="aggregate[p]: src_host, dst_host, src_port, dst_port, proto, tos, tcpflags"
pmacct_conf pmacct-nfprobe-v5 "plugins: nfprobe[p]" "nfprobe_receiver[p]: 127.0.0.1:2055" \
  "nfprobe_version[p]: 5"
run_export pmacct-nfprobe-v5 udp 2055 1 pmacctd -f "$OUT/pmacct-nfprobe-v5.conf"
pmacct_conf pmacct-nfprobe-v9 "plugins: nfprobe[p]" "nfprobe_receiver[p]: 127.0.0.1:2055" \
  "nfprobe_version[p]: 9" "nfprobe_source_ip[p]: 127.0.0.1" "nfprobe_engine[p]: 7" "$NF_AGG"
run_export pmacct-nfprobe-v9 udp 2055 1 pmacctd -f "$OUT/pmacct-nfprobe-v9.conf"
pmacct_conf pmacct-nfprobe-ipfix "plugins: nfprobe[p]" "nfprobe_receiver[p]: 127.0.0.1:4739" \
  "nfprobe_version[p]: 10" "nfprobe_source_ip[p]: 127.0.0.1" "nfprobe_engine[p]: 7" "$NF_AGG"
run_export pmacct-nfprobe-ipfix udp 4739 1 pmacctd -f "$OUT/pmacct-nfprobe-ipfix.conf"
pmacct_conf pmacct-nfprobe-ipfix-sampled "plugins: nfprobe[p]" \
  "nfprobe_receiver[p]: 127.0.0.1:4739" "nfprobe_version[p]: 10" "nfprobe_source_ip[p]: 127.0.0.1" \
  "nfprobe_engine[p]: 7" "$NF_AGG" "sampling_rate: 4"
run_export pmacct-nfprobe-ipfix-sampled udp 4739 1 pmacctd -f "$OUT/pmacct-nfprobe-ipfix-sampled.conf"
pmacct_conf pmacct-nfprobe-v9-sampled "plugins: nfprobe[p]" \
  "nfprobe_receiver[p]: 127.0.0.1:2055" "nfprobe_version[p]: 9" "nfprobe_source_ip[p]: 127.0.0.1" \
  "nfprobe_engine[p]: 7" "$NF_AGG" "sampling_rate: 4"
run_export pmacct-nfprobe-v9-sampled udp 2055 1 pmacctd -f "$OUT/pmacct-nfprobe-v9-sampled.conf"
pmacct_conf pmacct-sfprobe "plugins: sfprobe[s]" "sfprobe_receiver[s]: 127.0.0.1:6343" \
  "sfprobe_agentip[s]: 127.0.0.1" "sfprobe_agentsubid[s]: 1" "sampling_rate: 1"
run_export pmacct-sfprobe udp 6343 0 pmacctd -f "$OUT/pmacct-sfprobe.conf"
pmacct_conf pmacct-sfprobe-sampled "plugins: sfprobe[s]" "sfprobe_receiver[s]: 127.0.0.1:6343" \
  "sfprobe_agentip[s]: 127.0.0.1" "sfprobe_agentsubid[s]: 1" "sampling_rate: 8"
run_export pmacct-sfprobe-sampled udp 6343 0 pmacctd -f "$OUT/pmacct-sfprobe-sampled.conf"
# sfprobe sends counter samples on a wall-clock timer (about every 20 s), which a capture read in
# milliseconds rarely meets: this one plays the capture twice, 25 s apart (pcap_savefile_delay
# sleeps before each play), at 1 in 64, so that counter samples are certain.
pmacct_conf pmacct-sfprobe-counters "plugins: sfprobe[s]" "sfprobe_receiver[s]: 127.0.0.1:6343" \
  "sfprobe_agentip[s]: 127.0.0.1" "sfprobe_agentsubid[s]: 1" "sampling_rate: 64" \
  "pcap_savefile_replay: 2" "pcap_savefile_delay: 25"
run_export pmacct-sfprobe-counters udp 6343 0 pmacctd -f "$OUT/pmacct-sfprobe-counters.conf"

# --- 3. tshark's independent view -------------------------------------------------------------
# For every export capture: NAME.tshark.json (counts, templates, every flow record's addresses,
# ports, protocol and counters, options records) and a row in EXPECTED.md. tshark (Wireshark's
# dissectors) is an implementation independent of both the exporters and acd.
log "tshark summaries"
python3 - "$OUT" <<'PYEND'
import json, os, subprocess, sys

out = sys.argv[1]
version = subprocess.run(['tshark', '--version'], capture_output=True, text=True).stdout.splitlines()[0]
PORTS = {'2055': 'udp', '4739': 'udp', '6343': 'udp'}

def tshark_json(path, transport, port, proto):
    args = ['tshark', '-r', path, '-T', 'json', '--no-duplicate-keys']
    if proto == 'cflow':
        args += ['-d', f'{transport}.port=={port},cflow']
    res = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(res.stdout)

def first(v):
    return v[0] if isinstance(v, list) else v

def as_list(v):
    return v if isinstance(v, list) else [v]

def cflow_summary(frames, cmd):
    datagrams = 0
    templates = []
    options_ids = set()
    flows, options = [], []
    sequences = []
    for fr in frames:
        layers = fr['_source']['layers']
        for pdu in as_list(layers.get('cflow', [])):
            datagrams += 1
            version = int(pdu['cflow.version'])
            sequences.append(int(pdu['cflow.sequence']))
            od = pdu.get('cflow.od_id', pdu.get('cflow.source_id'))
            for key, fs in pdu.items():
                if not (key.startswith('Set ') or key.startswith('FlowSet ')):
                    continue
                for fset in as_list(fs):
                    if not isinstance(fset, dict):
                        continue
                    set_id = int(first(fset.get('cflow.flowset_id', '-1')))
                    if set_id in (0, 2, 1, 3):
                        kind = 'data' if set_id in (0, 2) else 'options'
                        for tkey, t in fset.items():
                            if 'Template (Id' not in tkey:
                                continue
                            for tt in as_list(t):
                                tid = int(first(tt['cflow.template_id']))
                                entry = {'id': tid, 'kind': kind, 'domain': int(od) if od else 0}
                                if kind == 'options':
                                    options_ids.add(tid)
                                templates.append(entry)
                    else:
                        for fkey, rec in fset.items():
                            if not fkey.startswith('Flow '):
                                continue
                            for r in as_list(rec):
                                (options if set_id in options_ids else flows).append(flow_fields(r, set_id, version))
            if version == 5:
                for key, rec in pdu.items():
                    if key.startswith('pdu '):
                        for r in as_list(rec):
                            flows.append(flow_fields(r, None, 5))
    return {
        'tool': version_string, 'command': cmd, 'datagrams': datagrams,
        'templates': templates,
        'dataTemplates': sum(1 for t in templates if t['kind'] == 'data'),
        'optionsTemplates': sum(1 for t in templates if t['kind'] == 'options'),
        'flowRecords': len(flows), 'optionsRecords': len(options),
        'packetsTotal': sum(f.get('packets', 0) for f in flows),
        'octetsTotal': sum(f.get('octets', 0) for f in flows),
        'sequences': sequences, 'flows': flows, 'options': options,
    }

def flow_fields(r, set_id, version):
    f = {}
    if set_id is not None:
        f['templateId'] = set_id
    src = r.get('cflow.srcaddr', r.get('cflow.srcaddrv6'))
    dst = r.get('cflow.dstaddr', r.get('cflow.dstaddrv6'))
    if src is not None:
        f['srcAddr'] = first(src)
        f['dstAddr'] = first(dst)
    for name, key in (('srcPort', 'cflow.srcport'), ('dstPort', 'cflow.dstport'), ('protocol', 'cflow.protocol')):
        if key in r:
            f[name] = int(first(r[key]))
    for name, key in (('packets', 'cflow.packets'), ('octets', 'cflow.octets')):
        if key in r:
            vals = as_list(r[key])
            f[name] = int(vals[0])
            if len(vals) > 1:
                f['reverse' + name[0].upper() + name[1:]] = int(vals[1])
    if 'cflow.icmp_type_code_ipv4' in r:
        f['icmpTypeCode'] = int(first(r['cflow.icmp_type_code_ipv4']), 16)
    elif 'cflow.icmp_ipv6_type' in r:
        f['icmpTypeCode'] = int(first(r['cflow.icmp_ipv6_type'])) * 256 + int(first(r.get('cflow.icmp_ipv6_code', '0')))
    times = r.get('cflow.timedelta_tree', {})
    if 'cflow.abstimestart' in times:
        f['start'] = first(times['cflow.abstimestart'])
        f['end'] = first(times['cflow.abstimeend'])
    if set_id is not None and 'srcAddr' not in f:
        # options data: keep every leaf field tshark decoded
        for k, v in r.items():
            if k.startswith('cflow.') and not isinstance(v, dict):
                f[k[len('cflow.'):]] = v
    return f

def sflow_summary(frames, cmd):
    datagrams, flow_samples, counter_samples = 0, 0, 0
    rates = set()
    samples = []
    for fr in frames:
        layers = fr['_source']['layers']
        for s in as_list(layers.get('sflow', [])):
            datagrams += 1
            for key, smp in s.items():
                for x in as_list(smp):
                    if key.startswith('Flow sample'):
                        flow_samples += 1
                        rates.add(int(x['sflow.flow_sample.sampling_rate']))
                        hdr = x.get('Raw packet header', {})
                        tree = hdr.get('sflow_245.header_tree', {})
                        ip = tree.get('ip') or tree.get('ipv6') or {}
                        l4 = tree.get('tcp') or tree.get('udp') or {}
                        samples.append({
                            'samplingRate': int(x['sflow.flow_sample.sampling_rate']),
                            'frameLength': int(hdr.get('sflow_245.header.frame_length', 0)),
                            'srcAddr': ip.get('ip.src', ip.get('ipv6.src')),
                            'dstAddr': ip.get('ip.dst', ip.get('ipv6.dst')),
                            'protocol': int(ip.get('ip.proto', ip.get('ipv6.nxt', -1))),
                            'srcPort': int(first(l4.get('tcp.srcport', l4.get('udp.srcport', -1)))),
                            'dstPort': int(first(l4.get('tcp.dstport', l4.get('udp.dstport', -1)))),
                        })
                    elif key.startswith('Counters sample'):
                        counter_samples += 1
    return {'tool': version_string, 'command': cmd, 'datagrams': datagrams,
            'flowSamples': flow_samples, 'counterSamples': counter_samples,
            'samplingRates': sorted(rates), 'firstFlowSamples': samples[:20]}

version_string = version
rows = []
for name in sorted(os.listdir(out)):
    if not name.endswith('.pcap') or name == 'traffic.pcap':
        continue
    base = name[:-5]
    path = os.path.join(out, name)
    transport = 'tcp' if base.endswith('-tcp') else 'udp'
    port = '6343' if 'sfprobe' in base else ('4739' if 'ipfix' in base else '2055')
    proto = 'sflow' if 'sfprobe' in base else 'cflow'
    cmd = f'tshark -r {name} -T json --no-duplicate-keys' + (f' -d {transport}.port=={port},cflow' if proto == 'cflow' else '')
    frames = tshark_json(path, transport, port, proto)
    summary = sflow_summary(frames, cmd) if proto == 'sflow' else cflow_summary(frames, cmd)
    with open(os.path.join(out, base + '.tshark.json'), 'w') as fh:
        json.dump(summary, fh, indent=1)
        fh.write('\n')
    rows.append((base, transport, port, summary))

with open(os.path.join(out, 'EXPECTED.md'), 'w') as fh:
    fh.write('# Expected counts, according to tshark\n\n')
    fh.write('Generated by `scripts/make-fixtures.sh` with ' + version + ' (Wireshark dissectors:\n'
             'independent of the exporters and of acd). Per fixture: the command is in `NAME.tshark.json`\n'
             '(`-d udp.port==PORT,cflow` makes tshark decode NetFlow/IPFIX on that port), which also\n'
             'lists every flow record (addresses, ports, protocol, packets, octets; `reverse*` for\n'
             'RFC 5103 reverse counters) and every options record.\n\n')
    fh.write('## NetFlow v5/v9 and IPFIX\n\n')
    fh.write('| fixture | transport:port | messages | data templates | options templates | flow records | options records | packets | octets | sequence numbers | nfcapd sequence errors |\n')
    fh.write('|---|---|---|---|---|---|---|---|---|---|---|\n')
    for base, transport, port, s in rows:
        if 'flowRecords' in s:
            seq_errors = '-'
            stats = os.path.join(out, base + '.nfcapd.txt')
            if os.path.exists(stats):
                txt = open(stats).read()
                if 'Sequence Errors:' in txt:
                    seq_errors = txt.split('Sequence Errors:')[1].split(',')[0].strip()
            fh.write(f"| {base} | {transport}:{port} | {s['datagrams']} | {s['dataTemplates']} | {s['optionsTemplates']} | {s['flowRecords']} | {s['optionsRecords']} | {s['packetsTotal']} | {s['octetsTotal']} | {' '.join(map(str, s['sequences']))} | {seq_errors} |\n")
    fh.write('\nTemplates are counted each time they are sent (a template refresh counts again).\n'
             'Sequence numbers are the message headers\' values in order (v5: flows before this\n'
             'message; v9: export packet count; IPFIX: data records before this message, RFC 7011),\n'
             'exactly as the exporter wrote them; nfcapd\'s count of sequence errors on the same\n'
             'datagrams is in the last column (from `NAME.nfcapd.txt`).\n'
             'Packets and octets are the sums of the flow records\' forward counters as exported\n'
             '(not scaled by sampling).\n\n')
    fh.write('## sFlow v5\n\n')
    fh.write('| fixture | transport:port | datagrams | flow samples | counter samples | sampling rates |\n')
    fh.write('|---|---|---|---|---|---|\n')
    for base, transport, port, s in rows:
        if 'flowSamples' in s:
            fh.write(f"| {base} | {transport}:{port} | {s['datagrams']} | {s['flowSamples']} | {s['counterSamples']} | {', '.join(map(str, s['samplingRates']))} |\n")
PYEND

echo done >&2
