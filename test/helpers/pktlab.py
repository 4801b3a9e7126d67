#!/usr/bin/env python3
# Packet tools for the differential tests (test/differential-*.test.ts),
# python3 standard library only, run inside the tests' network namespaces.
#
#   pktlab.py send IFACE=SRCMAC>DSTMAC ...   packets (JSON array on stdin) as
#                                            Ethernet frames on the named links
#   pktlab.py sniff IFACE ...                every IPv4 frame received on the
#                                            links, one JSON object a line
#   pktlab.py observe PROTO ...              every packet of these protocols
#                                            delivered locally (raw sockets:
#                                            after the netfilter input path)
#
# sniff and observe print "ready" once their sockets are open and stop on
# SIGTERM. Packets are identified by their IP ID; ICMP errors report the IP
# ID of the datagram they quote.
import json
import os
import signal
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
ETH_P_ALL = 0x0003


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools'))
from labtool import checksum  # noqa: E402  (the internet checksum, shared with the lab tools)


def ip_header(p, proto, payload_len, ident, src, dst, ttl=64):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + payload_len, ident, 0, ttl, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack('!H', checksum(hdr)) + hdr[12:]


def l4_checksum(src, dst, proto, segment):
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, proto, len(segment))
    return checksum(pseudo + segment)


ICMP_ERRORS = (3, 4, 5, 11, 12)


def build(p) -> bytes:
    proto, src, dst, ident = p['proto'], p['src'], p['dst'], p['id']
    if proto == 6:
        seg = struct.pack('!HHIIBBHHH', p['sport'], p['dport'], ident * 1000 + 1, 1 if p['flags'] & 0x10 else 0,
                          5 << 4, p['flags'], 512, 0, 0)
        seg = seg[:16] + struct.pack('!H', l4_checksum(src, dst, 6, seg)) + seg[18:]
    elif proto == 17:
        body = struct.pack('!I', ident)
        seg = struct.pack('!HHHH', p['sport'], p['dport'], 8 + len(body), 0) + body
        c = l4_checksum(src, dst, 17, seg) or 0xFFFF
        seg = seg[:6] + struct.pack('!H', c) + seg[8:]
    elif proto == 1:
        itype, code = p['type'], p['code']
        if itype in ICMP_ERRORS:
            # Quotes a datagram no connection knows about.
            inner_udp = struct.pack('!HHHH', 1111, 2222, 12, 0) + b'\0\0\0\0'
            inner = ip_header(p, 17, len(inner_udp), 0, '10.9.9.9', '10.8.8.8') + inner_udp[:8]
            rest = struct.pack('!I', 0) + inner
        elif itype in (13, 14):
            rest = struct.pack('!HH', ident, 1) + struct.pack('!III', 0, 0, 0)
        elif itype in (17, 18):
            rest = struct.pack('!HH', ident, 1) + struct.pack('!I', 0)
        else:
            rest = struct.pack('!HH', ident, 1) + struct.pack('!Q', ident)
        msg = struct.pack('!BBH', itype, code, 0) + rest
        seg = msg[:2] + struct.pack('!H', checksum(msg)) + msg[4:]
    else:
        seg = struct.pack('!HHI', 0, 0x0800, ident)
    return ip_header(p, proto, len(seg), ident, src, dst) + seg


def mac(text: str) -> bytes:
    return bytes(int(x, 16) for x in text.split(':'))


def cmd_send(args):
    links = {}
    for arg in args:
        name, macs = arg.split('=', 1)
        src, dst = macs.split('>', 1)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        s.bind((name, ETH_P_IP))
        links[name] = (s, mac(dst) + mac(src) + struct.pack('!H', ETH_P_IP))
    packets = json.load(sys.stdin)
    for p in packets:
        s, eth = links[p['link']]
        s.send(eth + build(p))
        time.sleep(p.get('gap', 0.002))


def parse(data: bytes, extra):
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    ihl = (data[0] & 15) * 4
    ident, = struct.unpack('!H', data[4:6])
    proto = data[9]
    out = dict(extra, id=ident, proto=proto, src=socket.inet_ntoa(data[12:16]), dst=socket.inet_ntoa(data[16:20]))
    l4 = data[ihl:]
    if proto in (6, 17) and len(l4) >= 4:
        out['sport'], out['dport'] = struct.unpack('!HH', l4[:4])
        if proto == 6 and len(l4) >= 14:
            out['flags'] = l4[13]
    elif proto == 1 and len(l4) >= 4:
        out['type'], out['code'] = l4[0], l4[1]
        if l4[0] in ICMP_ERRORS and len(l4) >= 28:
            inner = l4[8:]
            out['inner'] = {
                'id': struct.unpack('!H', inner[4:6])[0],
                'proto': inner[9],
                'src': socket.inet_ntoa(inner[12:16]),
                'dst': socket.inet_ntoa(inner[16:20]),
            }
        elif len(l4) >= 6:
            out['icmpid'] = struct.unpack('!H', l4[4:6])[0]
    return out


def serve(socks, handle):
    import selectors
    sel = selectors.DefaultSelector()
    for s, extra in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, extra)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print('ready', flush=True)
    while not stop:
        for key, _ in sel.select(timeout=0.05):
            while True:
                try:
                    data, addr = key.fileobj.recvfrom(65535)
                except BlockingIOError:
                    break
                rec = handle(data, addr, key.data)
                if rec is not None:
                    print(json.dumps(rec), flush=True)
    print('done', flush=True)


def cmd_sniff(args):
    socks = []
    for name in args:
        # SOCK_DGRAM: the frame without its Ethernet header.
        s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        s.bind((name, ETH_P_ALL))
        socks.append((s, name))

    def handle(data, addr, name):
        # addr = (ifname, proto, pkttype, hatype, mac); skip what we sent.
        if addr[2] == socket.PACKET_OUTGOING or addr[1] != ETH_P_IP:
            return None
        return parse(data, {'link': name})

    serve(socks, handle)


def cmd_observe(args):
    socks = [(socket.socket(socket.AF_INET, socket.SOCK_RAW, int(proto)), 'local') for proto in args]
    serve(socks, lambda data, addr, tag: parse(data, {}))


if __name__ == '__main__':
    {'send': cmd_send, 'sniff': cmd_sniff, 'observe': cmd_observe}[sys.argv[1]](sys.argv[2:])
