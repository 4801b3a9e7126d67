#!/usr/bin/env python3
# Traffic tools for the namespace lab (test/helpers/lab.ts). Each run prints
# JSON lines on stdout and ends by itself (every server has a lifetime).
#
#   serve --tcp P,.. --udp P,.. [--lifetime S]
#       TCP/UDP servers on 0.0.0.0 that answer every connection or datagram
#       with "peer=IP:PORT local=IP:PORT" (the addresses they saw) and log
#       {"ev": "tcp"|"udp", "peer": ..., "local": ...} for each. Prints
#       {"ev": "ready"} once listening.
#   tcp HOST PORT [--src A] [--sport P] [--timeout S]
#   udp HOST PORT [--src A] [--sport P] [--count N] [--size B] [--timeout S]
#       Clients. They also watch every ICMP message arriving in the
#       namespace (raw socket), so the outcome tells apart
#         reply    the server answered (text = what it saw)
#         icmp     an ICMP error about this flow arrived (type, code, from)
#         rst      TCP connection refused by a reset
#         timeout  nothing came back: silently dropped
#   ping HOST [--src A] [--timeout S]
#       One ICMP echo request: {"result": "reply", "from": A} or timeout.
#   spoof --src A --dst A --dport P [--count N] [--size B] [--sport P]
#       Sends UDP datagrams with any source address (IP_HDRINCL).
#   rawtcp --src A --dst A --sport P --dport P --flags SA [--count N]
#       Sends TCP segments with the given flags (S F R P A U) outside any
#       connection, e.g. a SYN+ACK nobody asked for.
#   sniff --port P [--seconds S]
#       Every IPv4 TCP/UDP packet to or from port P seen on any interface of
#       this namespace until stdin ends (the packets are sent) and S seconds
#       more for those in flight: {"count": N, "sources": [...]}.
#       Prints {"ev": "ready"} first.
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def addr(a):
    return "%s:%d" % (a[0], a[1])


# --------------------------------------------------------------------------
# ICMP watcher


class IcmpWatch:
    """Every ICMP error arriving in this namespace that quotes our flow."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.sock.setblocking(False)
        self.seen = []

    def poll(self, flow, wait=0.0):
        """flow = (proto, src, sport, dst, dport); sport may be None."""
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select([self.sock], [], [], max(left, 0))
            if not r:
                break
            try:
                data, src = self.sock.recvfrom(65535)
            except BlockingIOError:
                continue
            msg = self.parse(data, src[0])
            if msg:
                self.seen.append(msg)
        return [m for m in self.seen if self.matches(m, flow)]

    @staticmethod
    def parse(data, frm):
        ihl = (data[0] & 0x0F) * 4
        icmp = data[ihl:]
        if len(icmp) < 8 + 20:
            return None
        itype, code = icmp[0], icmp[1]
        if itype not in (3, 4, 5, 11, 12):
            return None
        q = icmp[8:]
        qihl = (q[0] & 0x0F) * 4
        proto = q[9]
        qsrc = socket.inet_ntoa(q[12:16])
        qdst = socket.inet_ntoa(q[16:20])
        sport = dport = None
        if proto in (6, 17) and len(q) >= qihl + 4:
            sport, dport = struct.unpack("!HH", q[qihl : qihl + 4])
        return {"type": itype, "code": code, "from": frm, "proto": proto, "qsrc": qsrc, "qdst": qdst, "qsport": sport, "qdport": dport}

    @staticmethod
    def matches(m, flow):
        proto, src, sport, dst, dport = flow
        return (
            m["proto"] == proto
            and m["qdst"] == dst
            and m["qdport"] == dport
            and (src is None or m["qsrc"] == src)
            and (sport is None or m["qsport"] == sport)
        )


def icmp_result(found, **extra):
    m = found[0]
    return dict(result="icmp", type=m["type"], code=m["code"], **{"from": m["from"]}, **extra)


# --------------------------------------------------------------------------
# Servers


def serve(args):
    tcps, udps = [], []
    for p in filter(None, args.tcp.split(",")):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(p)))
        s.listen(64)
        tcps.append(s)
    for p in filter(None, args.udp.split(",")):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # IP_PKTINFO: the local address each datagram was sent to.
        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        s.bind(("0.0.0.0", int(p)))
        udps.append(s)
    out({"ev": "ready"})
    end = time.monotonic() + args.lifetime
    while time.monotonic() < end:
        r, _, _ = select.select(tcps + udps, [], [], max(end - time.monotonic(), 0))
        for s in r:
            if s in tcps:
                c, peer = s.accept()
                local = c.getsockname()
                text = "peer=%s local=%s\n" % (addr(peer), addr(local))
                try:
                    c.sendall(text.encode())
                    c.shutdown(socket.SHUT_WR)
                    c.settimeout(2)
                    while c.recv(4096):
                        pass
                except OSError:
                    pass
                c.close()
                out({"ev": "tcp", "peer": addr(peer), "local": addr(local)})
            else:
                data, anc, _, peer = s.recvmsg(65535, socket.CMSG_SPACE(12))
                local_ip = "0.0.0.0"
                reply_from = []
                for level, kind, value in anc:
                    if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                        local_ip = socket.inet_ntoa(value[8:12])
                        # Answer from the address asked (a host with several addresses).
                        reply_from = [(socket.IPPROTO_IP, IP_PKTINFO, bytes(4) + value[8:12] + bytes(4))]
                local = (local_ip, s.getsockname()[1])
                out({"ev": "udp", "peer": addr(peer), "local": addr(local), "len": len(data)})
                text = "peer=%s local=%s" % (addr(peer), addr(local))
                try:
                    s.sendmsg([text.encode()], reply_from, 0, peer)
                except OSError as e:
                    out({"ev": "udp-reply-failed", "error": e.strerror})


# --------------------------------------------------------------------------
# Clients


def bound_socket(kind, args):
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.src or args.sport:
        s.bind((args.src or "0.0.0.0", args.sport or 0))
    return s


def tcp_client(args):
    watch = IcmpWatch()
    s = bound_socket(socket.SOCK_STREAM, args)
    s.setblocking(False)
    err = s.connect_ex((args.host, args.port))
    src, sport = s.getsockname()
    flow = (6, src, sport, args.host, args.port)
    base = {"src": "%s:%d" % (src, sport)}
    end = time.monotonic() + args.timeout
    if err not in (0, 115):  # EINPROGRESS
        out(dict(result="error", error=os.strerror(err), **base))
        return
    while True:
        left = end - time.monotonic()
        if left <= 0:
            found = watch.poll(flow)
            out(icmp_result(found, **base) if found else dict(result="timeout", **base))
            return
        _, w, _ = select.select([], [s], [], min(left, 0.05))
        found = watch.poll(flow)
        if found:
            out(icmp_result(found, **base))
            return
        if not w:
            continue
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == 0:
            s.setblocking(True)
            s.settimeout(max(end - time.monotonic(), 0.5))
            try:
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                out(dict(result="reply", text=data.decode().strip(), **base))
            except OSError as e:
                out(dict(result="error", error=str(e), **base))
            return
        # A refusal: an ICMP error may be on its way to the raw socket still.
        found = watch.poll(flow, 0.2)
        if found:
            out(icmp_result(found, **base))
        elif err == 111:
            out(dict(result="rst", **base))
        else:
            out(dict(result="error", error=os.strerror(err), **base))
        return


def udp_client(args):
    watch = IcmpWatch()
    s = bound_socket(socket.SOCK_DGRAM, args)
    s.connect((args.host, args.port))
    src, sport = s.getsockname()
    flow = (17, src, sport, args.host, args.port)
    base = {"src": "%s:%d" % (src, sport)}
    payload = (b"x" * args.size)[: args.size]
    replies = []
    for i in range(args.count):
        try:
            s.send(payload)
        except OSError as e:
            out(dict(result="error", error=e.strerror, sent=i, **base))
            return
        end = time.monotonic() + args.timeout
        got = None
        while got is None:
            left = end - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], min(left, 0.05))
            if watch.poll(flow):
                break
            if r:
                try:
                    got = s.recv(65535).decode()
                except ConnectionRefusedError:
                    break
        if got is None:
            found = watch.poll(flow, 0.2)
            if found:
                out(icmp_result(found, sent=i + 1, replies=replies, **base))
            else:
                out(dict(result="timeout", sent=i + 1, replies=replies, **base))
            return
        replies.append(got)
    out(dict(result="reply", text=replies[-1] if replies else "", replies=replies, sent=args.count, **base))


def ping(args):
    """One ICMP echo request; result reply (with the replying address) or timeout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    body = b"legacyfw-lab"
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    pkt = hdr[:2] + struct.pack("!H", checksum(hdr + body)) + hdr[4:] + body
    if args.src:
        s.bind((args.src, 0))
    s.sendto(pkt, (args.host, 0))
    end = time.monotonic() + args.timeout
    while True:
        left = end - time.monotonic()
        r, _, _ = select.select([s], [], [], max(left, 0))
        if not r:
            out({"result": "timeout"})
            return
        data, frm = s.recvfrom(65535)
        ihl = (data[0] & 0x0F) * 4
        itype, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl : ihl + 8])
        if itype == 0 and rid == ident:
            out({"result": "reply", "from": frm[0]})
            return


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def spoof(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    payload = b"s" * args.size
    src = socket.inet_aton(args.src)
    dst = socket.inet_aton(args.dst)
    ulen = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", args.sport, args.dport, ulen, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    for i in range(args.count):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0x4000 + i, 0x4000, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        s.sendto(ip + udp, (args.dst, 0))
    out({"result": "sent", "count": args.count, "bytes": args.count * (20 + ulen)})


def rawtcp(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    src = socket.inet_aton(args.src)
    dst = socket.inet_aton(args.dst)
    bits = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16, "U": 32}
    flags = sum(bits[f] for f in args.flags)
    for i in range(args.count):
        tcp = struct.pack("!HHIIBBHHH", args.sport, args.dport, 1000 + i, 5000, 5 << 4, flags, 8192, 0, 0)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0x5000 + i, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        s.sendto(ip + tcp, (args.dst, 0))
    out({"result": "sent", "count": args.count})


def sniff(args):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    out({"ev": "ready"})
    # No fixed window from "ready": the sender may be slow to start.
    end = None
    sources = []
    while end is None or time.monotonic() < end:
        readable, _, _ = select.select([s] if end is not None else [s, sys.stdin], [], [], 0.1)
        if sys.stdin in readable and not sys.stdin.readline():
            end = time.monotonic() + args.seconds
        if s not in readable:
            continue
        frame, meta = s.recvfrom(65535)
        if meta[2] == socket.PACKET_OUTGOING:
            continue
        ip = frame[14:] if len(frame) > 14 and frame[12:14] == b"\x08\x00" else frame
        if len(ip) < 24 or ip[0] >> 4 != 4 or ip[9] not in (6, 17):
            continue
        ihl = (ip[0] & 15) * 4
        sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
        if args.port in (sport, dport):
            sources.append("%s:%d" % (socket.inet_ntoa(ip[12:16]), sport))
    out({"count": len(sources), "sources": sources})


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sv = sub.add_parser("serve")
    sv.add_argument("--tcp", default="")
    sv.add_argument("--udp", default="")
    sv.add_argument("--lifetime", type=float, default=120)
    for name in ("tcp", "udp"):
        c = sub.add_parser(name)
        c.add_argument("host")
        c.add_argument("port", type=int)
        c.add_argument("--src", default="")
        c.add_argument("--sport", type=int, default=0)
        c.add_argument("--timeout", type=float, default=2)
        c.add_argument("--count", type=int, default=1)
        c.add_argument("--size", type=int, default=16)
    pg = sub.add_parser("ping")
    pg.add_argument("host")
    pg.add_argument("--src", default="")
    pg.add_argument("--timeout", type=float, default=2)
    sp = sub.add_parser("spoof")
    sp.add_argument("--src", required=True)
    sp.add_argument("--dst", required=True)
    sp.add_argument("--sport", type=int, default=4000)
    sp.add_argument("--dport", type=int, required=True)
    sp.add_argument("--count", type=int, default=1)
    sp.add_argument("--size", type=int, default=16)
    rt = sub.add_parser("rawtcp")
    rt.add_argument("--src", required=True)
    rt.add_argument("--dst", required=True)
    rt.add_argument("--sport", type=int, required=True)
    rt.add_argument("--dport", type=int, required=True)
    rt.add_argument("--flags", required=True)
    rt.add_argument("--count", type=int, default=1)
    sn = sub.add_parser("sniff")
    sn.add_argument("--port", type=int, required=True)
    sn.add_argument("--seconds", type=float, default=0.5)
    a = p.parse_args()
    {"serve": serve, "tcp": tcp_client, "udp": udp_client, "ping": ping, "spoof": spoof, "rawtcp": rawtcp, "sniff": sniff}[a.cmd](a)


if __name__ == "__main__":
    main()
