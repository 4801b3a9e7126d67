// Real packets through corpus rc.firewall scripts. Each script runs
// unchanged but for its variables (test/helpers/script.ts) in the gateway
// of a lan/gw/wan lab (test/helpers/lab.ts), through bin/ipchains; then TCP,
// UDP and forged packets check the Linux 2.2 packet path
// (spec/legacy/packet-path.md section 2): masquerading from 61000-65095,
// input before de-masquerading, replies skipping forward, output after
// the source rewrite, REJECT answering ICMP port-unreachable where DENY is
// silent, REDIRECT, and counters that match what was sent.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import {
  GW_LAN,
  GW_WAN,
  LAN_ADDRS,
  type Lab,
  type Listing,
  type Probe,
  WAN,
  checkMasqueraded,
  checkScriptRun,
  counters,
  inMasqRange,
  rule,
  seen,
  withLab,
  withRouteBack,
} from './helpers/lab.ts'
import { corpusPath } from './helpers/corpus-dir.mjs'
import { requireRootAndNft } from './helpers/netns.ts'
import { runScript } from '../src/script/sandbox.ts'

const CORPUS = corpusPath('ipchains')
/** How long a probe waits before calling a packet silently dropped. */
const SILENCE = 1

const [LAN10, LAN11, LAN12] = LAN_ADDRS

const missing = requireRootAndNft() ?? (spawnSync('python3', ['-c', '1']).status === 0 ? undefined : 'these tests need python3')

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

/** The outcome of a probe as ICMP fields, to compare with portUnreachable(). */
const icmpOf = (p: Probe) => ({ result: p.result, type: p.type, code: p.code, from: p.from })
const portUnreachable = (from: string) => ({ result: 'icmp', type: 3, code: 3, from })

/** Packet and byte deltas of listed rules between two listings. */
const delta = (before: Listing, after: Listing, chain: string, num: number): [number, number] => {
  const a = rule(before, chain, num)
  const b = rule(after, chain, num)
  return [b.pkts - a.pkts, b.bytes - a.bytes]
}

/** Runs a corpus script in the gateway; fails the test on a tool crash. */
const runInGateway = async (t: TapTest, lab: Lab, file: string, vars: Record<string, string>, args: string[] = []) => {
  const run = await runScript(lab.ns.gw, `${CORPUS}/${file}`, { vars, args })
  checkScriptRun(t, run, file, 'ipchains')
  return run
}

if (missing) t.fail(missing)
else {
  // -------------------------------------------------------------------------
  t.test('ipmasq-howto-2000 rc.firewall-2.2.x-strong', async (t) => {
    await withLab(async (lab) => {
      const run = await runInGateway(t, lab, 'ipmasq-howto-2000-rc.firewall-2.2.x-strong.sh', {
        extip: GW_WAN,
        extint: 'wan0',
        intint: 'lan0',
        intnet: '192.168.1.0/24',
      })
      t.equal(run.calls.length, 20, 'the script ran its 20 ipchains commands')
      t.same(
        run.stubs.map((s) => s.join(' ')),
        ['/sbin/depmod -a', '/sbin/modprobe ip_masq_ftp', '/sbin/modprobe ip_masq_raudio'],
        'module tools were recorded, not run',
      )
      // input: 1 lan0 intnet ACCEPT, 2 wan0 spoof REJECT -l, 3 wan0 -> extip ACCEPT, 4 lo, 5 REJECT -l
      // forward: 1 wan0 intnet MASQ, 2 REJECT -l
      // output: 1 lan0 -> intnet, 2-3 wan0 intnet REJECT, 4 wan0 from extip, 5 lo, 6 REJECT -l

      const wan = await lab.serve('wan', { tcp: [8080], udp: [9000] })
      const lanServer = await lab.serve('lan', { tcp: [2222], udp: [2223] })

      await t.test('lan reaches wan over TCP, masqueraded to 203.0.113.1:61000-65095', async (t) => {
        const p = await lab.tcp('lan', WAN, 8080, { src: LAN10 })
        const s = checkMasqueraded(t, p, 'TCP')
        const logged = await wan.waitFor((e) => e.ev === 'tcp' && e.peer === `${GW_WAN}:${s.port}`)
        t.same(logged, { ev: 'tcp', peer: `${GW_WAN}:${s.port}`, local: `${WAN}:8080` }, 'the wan server logged it')
        const masq = lab.ipchains('-M', '-L', '-n')
        t.equal(masq.status, 0)
        const sport = p.src.split(':')[1]
        t.match(
          masq.stdout,
          new RegExp(`^TCP\\s+\\S+ ${LAN10.replaceAll('.', '\\.')}\\s+${WAN.replaceAll('.', '\\.')}\\s+${sport} \\(${s.port}\\) -> 8080$`, 'm'),
          'ipchains -M -L -n lists the masqueraded connection',
        )
      })

      await t.test('lan reaches wan over UDP; counters are exact and follow the 2.2 path', async (t) => {
        const before = counters(lab)
        const count = 5
        const size = 100
        const p = await lab.udp('lan', WAN, 9000, { src: LAN11, sport: 40011, count, size })
        const after = counters(lab)
        const s = checkMasqueraded(t, p, 'UDP')
        t.equal(p.replies?.length, count, 'every datagram was answered')
        const sent = count * (20 + 8 + size)
        const replied = (p.replies ?? []).reduce((n, r) => n + 28 + r.length, 0)
        t.same(delta(before, after, 'input', 1), [count, sent], 'input #1 (lan0) counted the datagrams')
        t.same(delta(before, after, 'forward', 1), [count, sent], 'forward MASQ counted the datagrams, not the replies')
        t.same(delta(before, after, 'forward', 2), [0, 0], 'replies skipped forward')
        t.same(delta(before, after, 'output', 4), [count, sent], 'output saw them with the masqueraded source (-s extip)')
        t.same(delta(before, after, 'output', 3), [0, 0], 'output saw no inside source leaving wan0')
        t.same(delta(before, after, 'input', 3), [count, replied], 'input saw the replies still addressed to extip (before de-masquerading)')
        t.same(delta(before, after, 'output', 1), [count, replied], 'output saw the de-masqueraded replies to the lan host')
        t.same(
          [...after.policies.values()].map((p) => p.pkts),
          [...before.policies.values()].map((p) => p.pkts),
          'no policy counted anything',
        )
        // -M -S 7200 10 60: the UDP entry lives 60 s (the kernel's own UDP timeouts are 30 s and 120 s).
        const entry = new RegExp(
          `^UDP\\s+(\\d\\d):(\\d\\d)\\.\\d\\d ${LAN11.replaceAll('.', '\\.')}\\s+${WAN.replaceAll('.', '\\.')}\\s+40011 \\(${s.port}\\) -> 9000$`,
          'm',
        ).exec(lab.ipchains('-M', '-L', '-n').stdout)
        const expire = entry ? Number(entry[1]) * 60 + Number(entry[2]) : -1
        t.ok(expire > 30 && expire <= 60, `-M -L -n lists the UDP entry expiring within the script's 60 s (${expire} s)`)
      })

      await t.test('ICMP is masqueraded; ICMP errors about a masqueraded flow skip forward', async (t) => {
        // wan has no route back to the lan: an answer proves masquerading.
        const ping = await lab.ping('lan', WAN, { src: LAN10 })
        t.same(ping, { result: 'reply', from: WAN }, 'lan pings wan')
        // 2.2 listed an ICMP query by its id, the masq id and type << 8 | code (icmp_hv_req).
        const esc = (a: string) => a.replaceAll('.', '\\.')
        const icmp = new RegExp(`^ICMP\\s+\\S+ ${esc(LAN10)}\\s+${esc(WAN)}\\s+\\d+ \\((\\d+)\\) -> 2048$`, 'm').exec(
          lab.ipchains('-M', '-L', '-n').stdout,
        )
        t.ok(icmp && inMasqRange(Number(icmp[1])), `-M -L -n lists the echo request: id (masq id from 61000-65095) -> 2048 (${icmp?.[0]})`)
        const before = counters(lab)
        const p = await lab.udp('lan', WAN, 9999, { src: LAN10, sport: 40012 })
        const after = counters(lab)
        t.same(icmpOf(p), portUnreachable(WAN), 'the lan host got the port-unreachable from wan')
        t.same(delta(before, after, 'forward', 1)[0], 1, 'forward counted the datagram only')
        t.same(delta(before, after, 'forward', 2), [0, 0], 'the ICMP error skipped forward (its catch-all REJECT)')
        t.same(delta(before, after, 'input', 3)[0], 1, 'input saw the ICMP error addressed to extip')
        t.same(delta(before, after, 'output', 1)[0], 1, 'output saw it on its way to the lan host')
      })

      await t.test('wan cannot open connections into lan', async (t) => {
        await withRouteBack(lab, LAN12, async () => {
          const before = counters(lab)
          const tcp = await lab.tcp('wan', LAN12, 2222, { timeout: SILENCE })
          const udp = await lab.udp('wan', LAN12, 2223, { timeout: SILENCE })
          const after = counters(lab)
          t.same(icmpOf(tcp), portUnreachable(GW_WAN), 'TCP: input catch-all REJECT answered port-unreachable')
          t.same(icmpOf(udp), portUnreachable(GW_WAN), 'UDP: input catch-all REJECT answered port-unreachable')
          t.same(lanServer.events, [], 'nothing reached the lan server')
          // A Linux SYN is 60 bytes (20 IP + 20 TCP + 20 options); the datagram 20 + 8 + 16.
          t.same(delta(before, after, 'input', 5), [2, 60 + 44], 'input catch-all counted the SYN and the datagram')
          t.same(delta(before, after, 'forward', 1), [0, 0], 'nothing was forwarded')
        })
      })

      await t.test('closed gateway ports answer as the script intends (anything to extip is accepted)', async (t) => {
        const tcp = await lab.tcp('wan', GW_WAN, 2222, { timeout: SILENCE })
        const udp = await lab.udp('wan', GW_WAN, 2223, { timeout: SILENCE })
        t.equal(tcp.result, 'rst', 'TCP to a closed port: the gateway stack resets')
        t.same(icmpOf(udp), portUnreachable(GW_WAN), 'UDP to a closed port: the stack answers port-unreachable')
      })

      await t.test('a spoofed inside source arriving on wan0 is dropped and counted exactly', async (t) => {
        const before = counters(lab)
        const count = 7
        const bytes = await lab.spoof('wan', { src: '192.168.1.77', dst: GW_WAN, dport: 2223, count })
        const after = counters(lab)
        t.same(delta(before, after, 'input', 2), [count, bytes], `input #2 (-i wan0 -s intnet -l REJECT) counted ${count} packets, ${bytes} bytes`)
        t.same(delta(before, after, 'input', 3), [0, 0], 'the spoofed packets went no further in input')
      })

      await t.test('REJECT answers port-unreachable, DENY stays silent (input)', async (t) => {
        const gw = await lab.serve('gw', { udp: [7000, 7001] })
        for (const [port, target] of [
          [7000, 'DENY'],
          [7001, 'REJECT'],
        ] as const)
          t.equal(
            lab.ipchains('-I', 'input', '1', '-i', 'wan0', '-p', 'udp', '-d', GW_WAN, String(port), '-j', target).status,
            0,
            `added a ${target} rule`,
          )
        const denied = await lab.udp('wan', GW_WAN, 7000, { timeout: SILENCE })
        const rejected = await lab.udp('wan', GW_WAN, 7001, { timeout: SILENCE })
        t.equal(denied.result, 'timeout', 'DENY: no answer at all')
        t.same(icmpOf(rejected), portUnreachable(GW_WAN), 'REJECT: ICMP port-unreachable')
        t.same(gw.events, [], 'the gateway server got neither')
        const l = counters(lab)
        t.same(
          [rule(l, 'input', 1).target, rule(l, 'input', 1).pkts, rule(l, 'input', 2).target, rule(l, 'input', 2).pkts],
          ['REJECT', 1, 'DENY', 1],
        )
        t.equal(lab.ipchains('-D', 'input', '1').status, 0)
        t.equal(lab.ipchains('-D', 'input', '1').status, 0)
        gw.stop()
      })

      await t.test('REDIRECT lands on a local port of the gateway', async (t) => {
        const proxy = await lab.serve('gw', { tcp: [8081] })
        const events = wan.events.length
        t.equal(lab.ipchains('-I', 'input', '1', '-i', 'lan0', '-p', 'tcp', '-d', WAN, '8080', '-j', 'REDIRECT', '8081').status, 0)
        const p = await lab.tcp('lan', WAN, 8080, { src: LAN10 })
        t.equal(p.result, 'reply')
        const s = seen(p.text)
        t.equal(`${s.peer}:${s.port}`, p.src, 'the gateway listener saw the lan client itself')
        // nft redirect rewrites to the address of the incoming interface; a
        // 2.2 transparent-proxy socket saw the original destination
        // (docs/divergences.md, "REDIRECT: local address").
        t.equal(s.local, `${GW_LAN}:8081`, 'it arrived on the redirect port')
        t.equal(wan.events.length, events, 'the wan server saw nothing')
        t.equal(rule(counters(lab), 'input', 1).target, 'REDIRECT')
        t.ok(rule(counters(lab), 'input', 1).pkts >= 3, 'the REDIRECT rule counted the connection')
        t.equal(lab.ipchains('-D', 'input', '1').status, 0)
        const direct = await lab.tcp('lan', WAN, 8080, { src: LAN10 })
        t.equal(seen(direct.text).local, `${WAN}:8080`, 'without the rule the connection goes to wan again')
        proxy.stop()
      })

      await t.test('output REJECT of a local packet drops it (divergence)', async (t) => {
        // 2.2 answered a locally generated TCP packet that output REJECTs
        // with port-unreachable to ourselves; nftables cannot reject after
        // routing, so it is dropped (docs/divergences.md, "REJECT in output").
        const before = counters(lab)
        const p = await lab.tcp('gw', WAN, 8080, { src: GW_LAN, timeout: SILENCE })
        const after = counters(lab)
        t.equal(p.result, 'timeout', 'the connection attempt got no answer')
        t.equal(delta(before, after, 'output', 3)[0] >= 1, true, 'output #3 (-i wan0 -s intnet -l REJECT) caught it')
      })
      wan.stop()
      lanServer.stop()
    })
  })

  // -------------------------------------------------------------------------
  t.test('rp-pppoe firewall start (wildcard external interface)', async (t) => {
    await withLab(async (lab) => {
      const run = await runInGateway(t, lab, 'rp-pppoe-firewall.sh', { EXTIF: 'wan+', INTERNAL: '192.168.1.0/24' }, ['start'])
      t.equal(run.calls.length, 28, 'the start branch ran its 28 ipchains commands')
      // input: 1-3 -s private -i wan+ DENY, 4-6 -d private DENY, 7 113 REJECT,
      //        8 -y DENY, 9 udp 0:1023 DENY, 10 tcp 0:1023 DENY; policy ACCEPT
      // forward: masq 53/udp, 80, 443, 119, 25, 110, 143, 21, 22, 23, 1024: (each -b); DENY -l
      const wan = await lab.serve('wan', { tcp: [80, 79, 8080], udp: [53, 9000] })
      const gw = await lab.serve('gw', { tcp: [22, 113, 2000], udp: [53, 5353] })
      const lanServer = await lab.serve('lan', { tcp: [2222] })

      await t.test('allowed services are masqueraded; others are denied in forward', async (t) => {
        const http = await lab.tcp('lan', WAN, 80, { src: LAN10 })
        const high = await lab.tcp('lan', WAN, 8080, { src: LAN10 })
        const dns = await lab.udp('lan', WAN, 53, { src: LAN10 })
        for (const [name, p] of [
          ['tcp 80', http],
          ['tcp 8080', high],
          ['udp 53', dns],
        ] as const)
          checkMasqueraded(t, p, name)
        const before = counters(lab)
        const finger = await lab.tcp('lan', WAN, 79, { src: LAN10, timeout: SILENCE })
        const udp = await lab.udp('lan', WAN, 9000, { src: LAN10, timeout: SILENCE })
        const after = counters(lab)
        t.equal(finger.result, 'timeout', 'tcp 79 (not allowed) is dropped silently')
        t.equal(udp.result, 'timeout', 'udp 9000 (only DNS is allowed) is dropped silently')
        const catchAll = after.rules.filter((r) => r.chain === 'forward').length
        t.ok(delta(before, after, 'forward', catchAll)[0] >= 2, 'the forward catch-all DENY counted them')
        t.same(
          wan.events.filter((e) => e.local.endsWith(':79') || e.local.endsWith(':9000')),
          [],
          'wan saw neither',
        )
      })

      await t.test('REJECT (ident) answers port-unreachable, DENY (SYN to ssh) is silent', async (t) => {
        const before = counters(lab)
        const ident = await lab.tcp('wan', GW_WAN, 113, { timeout: SILENCE })
        const ssh = await lab.tcp('wan', GW_WAN, 22, { timeout: SILENCE })
        const after = counters(lab)
        t.same(icmpOf(ident), portUnreachable(GW_WAN), 'tcp 113: ICMP port-unreachable, not a reset')
        t.equal(ssh.result, 'timeout', 'tcp 22: silently dropped')
        t.same(
          gw.events.filter((e) => e.ev === 'tcp'),
          [],
          'the gateway TCP listeners got nothing',
        )
        t.same(delta(before, after, 'input', 7), [1, 60], 'the REJECT rule counted one SYN')
        t.ok(delta(before, after, 'input', 8)[0] >= 1, 'the -y DENY rule counted the SYN(s) to 22')
        const syn = await lab.tcp('wan', GW_WAN, 2000, { timeout: SILENCE })
        t.equal(syn.result, 'timeout', 'tcp 2000: every SYN from wan+ is dropped, open port or not')
        const udp = await lab.udp('wan', GW_WAN, 5353)
        t.equal(seen(udp.text).local, `${GW_WAN}:5353`, 'udp 5353 (unprivileged) reaches the gateway (input policy ACCEPT)')
      })

      await t.test('spoofed and inside-addressed packets from wan+ are denied and counted', async (t) => {
        const before = counters(lab)
        const bytes = await lab.spoof('wan', { src: '192.168.1.99', dst: GW_WAN, dport: 53, count: 4, size: 32 })
        const after = counters(lab)
        t.same(delta(before, after, 'input', 3), [4, bytes], 'input #3 (-s 192.168.0.0/16 -i wan+ DENY) counted them exactly')
        t.same(
          gw.events.filter((e) => e.local.endsWith(':53')),
          [],
          'nothing reached the gateway DNS listener',
        )
        await withRouteBack(lab, LAN12, async () => {
          const b = counters(lab)
          const p = await lab.tcp('wan', LAN12, 2222, { timeout: SILENCE })
          const a = counters(lab)
          t.equal(p.result, 'timeout', 'wan -> lan: silently dropped')
          t.ok(delta(b, a, 'input', 6)[0] >= 1, 'input #6 (-d 192.168.0.0/16 -i wan+ DENY) caught it')
          t.same(lanServer.events, [], 'nothing reached the lan server')
        })
      })
      for (const s of [wan, gw, lanServer]) s.stop()
    })
  })

  // -------------------------------------------------------------------------
  t.test('ipmasq-howto-2005 rc.firewall-ipchains-stronger', async (t) => {
    await withLab(async (lab) => {
      await runInGateway(t, lab, 'ipmasq-howto-2005-rc.firewall-ipchains-stronger.sh', {
        EXTIF: 'wan0',
        INTIF: 'lan0',
        INTIP: `${GW_LAN}/32`,
        INTNET: '192.168.1.0/24',
        EXTIP: GW_WAN,
      })
      // input: 1 lan0 intnet ACCEPT, 2 wan0 spoof REJECT -l, 3 lo, 4 REJECT -l
      // (the "anything to $EXTIP" rule is commented out in this version)
      // output: 1 lan0 from INTIP to intnet, 2-3 wan0 intnet REJECT, 4 wan0 from EXTIP, 5 lo, 6 REJECT -l
      // forward: 1 wan0 intnet MASQ, 2 REJECT -l
      const wan = await lab.serve('wan', { udp: [9000] })
      const gw = await lab.serve('gw', { tcp: [22] })

      await t.test('the lan reaches the gateway', async (t) => {
        const p = await lab.tcp('lan', GW_LAN, 22, { src: LAN10 })
        t.equal(seen(p.text).local, `${GW_LAN}:22`)
      })

      await t.test('masquerade replies meet the input chain before de-masquerading, and are rejected', async (t) => {
        // 2.2: input sees the reply addressed to the gateway's port
        // 61000+; this script accepts nothing from wan0, so the catch-all
        // REJECT answers it and the lan host never gets a reply.
        const before = counters(lab)
        const p = await lab.udp('lan', WAN, 9000, { src: LAN10, sport: 40100, timeout: SILENCE })
        const after = counters(lab)
        const out = await wan.waitFor((e) => e.ev === 'udp')
        t.ok(
          out !== undefined && out.peer.startsWith(`${GW_WAN}:`) && inMasqRange(Number(out.peer.split(':')[1])),
          'wan got the datagram from 203.0.113.1:61000-65095',
          { out },
        )
        t.equal(p.result, 'timeout', 'the lan host got no reply')
        t.same(delta(before, after, 'forward', 1)[0], 1, 'forward MASQ counted the datagram')
        t.same(delta(before, after, 'input', 4)[0], 1, 'the input catch-all REJECT counted the reply')
        t.same(delta(before, after, 'output', 1), [0, 0], 'nothing was de-masqueraded to the lan')
      })

      await t.test('wan gets port-unreachable from every gateway port, even an open one', async (t) => {
        const p = await lab.tcp('wan', GW_WAN, 22, { timeout: SILENCE })
        t.same(icmpOf(p), portUnreachable(GW_WAN), 'tcp 22: ICMP port-unreachable')
        t.equal(gw.events.filter((e) => e.peer.startsWith(WAN)).length, 0, 'the ssh listener saw nothing from wan')
      })

      await t.test('a spoofed inside source on wan0 is rejected and counted exactly', async (t) => {
        const before = counters(lab)
        const bytes = await lab.spoof('wan', { src: LAN11, dst: GW_WAN, dport: 22, count: 3 })
        const after = counters(lab)
        t.same(delta(before, after, 'input', 2), [3, bytes])
        t.same(delta(before, after, 'input', 4), [0, 0])
      })
      wan.stop()
      gw.stop()
    })
  })
}
