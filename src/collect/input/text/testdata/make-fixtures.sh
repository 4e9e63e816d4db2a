#!/bin/sh
# Regenerates the Argus, nfdump and Zeek fixtures of this folder from traffic.pcap (a copy of the
# capture in ../../../decode/testdata, kept here so these files stay consistent with it; see README.md).
# Needs Debian's argus-server, argus-client, softflowd and nfdump. Run from this folder.
set -eu
PCAP=traffic.pcap
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Argus: one binary argus file, printed three ways by ra.
argus -r "$PCAP" -w "$TMP/x.argus"
printf 'RA_TIME_FORMAT="%%Y/%%m/%%d %%T.%%f"\n' > "$TMP/rarc"
# CTU-13 column set (Label is argus' own label field, empty here).
ra -F "$TMP/rarc" -r "$TMP/x.argus" -c , -n \
  -s stime dur proto saddr sport dir daddr dport state stos dtos pkts bytes sbytes label > argus-ctu.binetflow
# Epoch times and per-direction counters.
ra -r "$TMP/x.argus" -u -c , -n \
  -s stime ltime dur proto saddr sport dir daddr dport state spkts dpkts sbytes dbytes smac dmac sttl dttl > argus-epoch.csv
# ra's default time format (time of day only): the reader reports every line's time as unusable.
ra -r "$TMP/x.argus" -c , -n -s stime dur proto saddr sport dir daddr dport state pkts bytes sbytes | head -6 > argus-timeofday.csv

# nfdump: softflowd exports NetFlow v9 from the capture into nfcapd, nfdump prints CSV.
PORT=$(( 20000 + $$ % 20000 ))
mkdir "$TMP/nf"
nfcapd -b 127.0.0.1 -p "$PORT" -w "$TMP/nf" > /dev/null 2>&1 &
NFCAPD=$!
sleep 1
softflowd -r "$PCAP" -n "127.0.0.1:$PORT" -v 9 -A milli -c none > /dev/null
sleep 1
kill -TERM "$NFCAPD"
wait "$NFCAPD" || true
TZ=UTC nfdump -R "$TMP/nf" -o csv > nfdump-1.7.1.csv
# The same flows with milliseconds, for the newer CSV layout (see README.md).
TZ=UTC nfdump -R "$TMP/nf" -q -o 'fmt:%ts|%te|%td|%pr|%sa|%sp|%da|%dp|%flg|%ipkt|%ibyt|%opkt|%obyt|%in|%out|%ra' > "$TMP/fmt.txt"
node make-nfdump-new.mjs "$TMP/fmt.txt" > nfdump-1.7.6-layout.csv

node make-zeek-fixtures.mjs argus-epoch.csv
