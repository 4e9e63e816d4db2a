#!/usr/bin/env bash
# Makes veth.pcapng: real traffic between two private network namespaces joined by a veth pair
# (real Ethernet frames with real MACs, unlike the zero-MAC loopback of traffic.pcap), captured by
# dumpcap as pcapng: DNS over UDP (IPv4, IPv6), DNS over TCP (dig +tcp), a large DNS response over
# UDP that IP fragments (EDNS buffer 4096 over MTU 1500), ICMP/ICMPv6 echo and HTTP over IPv4/IPv6.
# Nothing leaves the namespaces; the addresses are documentation/ULA ranges used only in there.
#
# VLAN frames cannot be captured here: this machine's kernel has no 802.1Q module ("ip link add
# ... type vlan" fails with "Unknown device type"), so the VLAN tests build their tagged frames.
#
#   ns "client" (this script, unshare -n)      ns "server" (a child, unshare -n)
#   va 198.51.100.1/24, fd00:acd:10::1/64  ─  vb 198.51.100.2/24, fd00:acd:10::2/64
#
# Needs root and the Debian packages iproute2, ethtool, dnsmasq-base, bind9-dnsutils (dig), curl,
# iputils-ping, python3, tshark (dumpcap). Usage: make-veth-capture.sh [OUTPUT]
set -euo pipefail
export LC_ALL=C
OUT=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/veth.pcapng}
if [[ "${ACD_VETH_NETNS:-}" != 1 ]]; then
  exec unshare --net env ACD_VETH_NETNS=1 "$0" "$OUT"
fi
WORK=$(mktemp -d /tmp/acd-veth.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

ip link set lo up
# The server namespace: a child process that only waits.
unshare --net sleep 120 &
SRV=$!
PIDS+=("$SRV")
sleep 0.2
S() { nsenter -t "$SRV" -n "$@"; }
S ip link set lo up
ip link add va type veth peer name vb
ip link set vb netns "$SRV"
# Fixed MACs so the capture does not depend on random ones.
ip link set va address 02:00:00:00:0a:01
S ip link set vb address 02:00:00:00:0b:01
# Offloads off: segments and checksums as on a wire.
ethtool -K va tx off rxvlan off txvlan off >/dev/null 2>&1 || true
S ethtool -K vb tx off rxvlan off txvlan off >/dev/null 2>&1 || true
ip addr add 198.51.100.1/24 dev va
S ip addr add 198.51.100.2/24 dev vb
ip link set va up
S ip link set vb up
ip -6 addr add fd00:acd:10::1/64 dev va nodad
S ip -6 addr add fd00:acd:10::2/64 dev vb nodad

S dnsmasq --keep-in-foreground --port=53 --listen-address=198.51.100.2,fd00:acd:10::2 --edns-packet-max=4096 \
  --bind-interfaces --no-resolv --no-hosts --user=root --pid-file="$WORK/dnsmasq.pid" \
  --local=/acd.test/ --address=/www.acd.test/192.0.2.80 --address=/www.acd.test/2001:db8::80 \
  --txt-record=big.acd.test,"$(printf 'a%.0s' $(seq 1 250))","$(printf 'b%.0s' $(seq 1 250))","$(printf 'c%.0s' $(seq 1 250))","$(printf 'd%.0s' $(seq 1 250))","$(printf 'e%.0s' $(seq 1 250))","$(printf 'f%.0s' $(seq 1 250))","$(printf 'g%.0s' $(seq 1 250))","$(printf 'h%.0s' $(seq 1 250))" \
  >"$WORK/dnsmasq.log" 2>&1 &
PIDS+=($!)
mkdir -p "$WORK/www"
echo '<p>hello over veth</p>' >"$WORK/www/index.html"
(cd "$WORK/www" && exec nsenter -t "$SRV" -n python3 -m http.server 8080 --bind :: >"$WORK/http.log" 2>&1) &
PIDS+=($!)
sleep 1

dumpcap -q -i va -w "$WORK/veth.pcapng" -f "not arp and not icmp6 or icmp6[0] == 128 or icmp6[0] == 129" \
  >"$WORK/dumpcap.log" 2>&1 &
DUMP=$!
PIDS+=("$DUMP")
for _ in $(seq 1 50); do [[ -s "$WORK/veth.pcapng" ]] && break; sleep 0.1; done
sleep 0.5
DIG=(dig +tries=1 +time=2)
"${DIG[@]}" @198.51.100.2 www.acd.test A >/dev/null              # UDP, IPv4
"${DIG[@]}" @fd00:acd:10::2 www.acd.test AAAA >/dev/null         # UDP, IPv6
"${DIG[@]}" +tcp @198.51.100.2 www.acd.test A >/dev/null         # DNS over TCP
"${DIG[@]}" +bufsize=4096 @198.51.100.2 big.acd.test TXT >/dev/null # ~2 KB response: IP fragments
"${DIG[@]}" @198.51.100.2 nothere.acd.test A >/dev/null          # NXDOMAIN
ping -c 2 -i 0.2 -q 198.51.100.2 >/dev/null
ping -6 -c 2 -i 0.2 -q fd00:acd:10::2 >/dev/null
curl -s -o /dev/null "http://198.51.100.2:8080/"
curl -s -g -o /dev/null "http://[fd00:acd:10::2]:8080/"
sleep 0.5
kill -INT "$DUMP"
wait "$DUMP" 2>/dev/null || true
cp "$WORK/veth.pcapng" "$OUT"
echo "wrote $OUT" >&2

# softflowd's view of the same capture, as the independent reference: IPFIX to nfcapd, printed by
# nfdump with the columns of scripts/make-fixtures.sh (one row per direction).
CSV="${OUT%.pcapng}.softflowd.nfdump.csv"
mkdir -p "$WORK/nfcapd"
nfcapd -b 127.0.0.1 -p 14739 -w "$WORK/nfcapd" -t 3600 -P "$WORK/nfcapd.pid" >"$WORK/nfcapd.log" 2>&1 &
NFCAPD=$!
PIDS+=("$NFCAPD")
sleep 1
softflowd -d -r "$OUT" -A milli -c none -p "$WORK/softflowd.pid" -n 127.0.0.1:14739 -v 10 >"$WORK/softflowd.log" 2>&1
sleep 1
kill -TERM "$NFCAPD"
wait "$NFCAPD" 2>/dev/null || true
{
  echo "ts,te,pr,sa,sp,da,dp,flg,ipkt,ibyt,opkt,obyt"
  TZ=UTC nfdump -q -N -R "$WORK/nfcapd" -O tstart \
    -o "fmt:%ts,%te,%pr,%sa,%sp,%da,%dp,%flg,%pkt,%byt,%opkt,%obyt" |
    sed -e 's/ *, */,/g' -e 's/^ *//' -e 's/ *$//'
} >"$CSV"
echo "wrote $CSV" >&2
