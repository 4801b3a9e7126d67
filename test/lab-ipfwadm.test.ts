// Real packets through corpus ipfwadm scripts in the gateway of the
// lan/gw/wan lab, through bin/ipfwadm: the Linux 2.0 packet path
// (spec/legacy/packet-path.md section 1). Each script runs unchanged but for
// its variables and, where it writes them literally, the addresses and
// interface names of its own network (192.168.0.x, ppp0, eth0), pointed at
// the lab's.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type CounterRow,
  GW_LAN,
  GW_WAN,
  LAN_ADDRS,
  type Lab,
  WAN,
  checkMasqueraded,
  checkScriptRun,
  counterRows,
  seen,
  withLab,
  withRouteBack,
} from './helpers/lab.ts'
import { corpusPath } from './helpers/corpus-dir.mjs'
import { requireRootAndNft } from './helpers/netns.ts'
import { runScript, setVariables } from '../src/script/sandbox.ts'

const CORPUS = corpusPath('ipfwadm')
const SILENCE = 1
const [LAN10, LAN11, LAN12] = LAN_ADDRS as unknown as [string, string, string]

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

/** Counters of an `ipfwadm -X -l -e -x -n` listing, by rule number (1-based). */
const listed = (lab: Lab, category: string): CounterRow[] => {
  const r = lab.ipfwadm(category, '-l', '-e', '-x', '-n')
  if (r.status !== 0) throw new Error(`ipfwadm ${category} -l: ${r.stderr}`)
  return counterRows(r.stdout)
}

const delta = (before: readonly CounterRow[], after: readonly CounterRow[], num: number): [number, number] => {
  const a = before[num - 1]
  const b = after[num - 1]
  if (!a || !b) throw new Error(`no rule #${num}`)
  return [b.pkts - a.pkts, b.bytes - a.bytes]
}

/**
 * Runs a corpus script in the gateway with its variables set and its own
 * network's literal addresses and names replaced by the lab's.
 */
const runInGateway = async (t: TapTest, lab: Lab, file: string, vars: Record<string, string>, literals: [string, string][] = []) => {
  const dir = mkdtempSync(join(tmpdir(), 'lfw-fwadm-'))
  try {
    let text = setVariables(readFileSync(join(CORPUS, file), 'utf8'), vars)
    for (const [from, to] of literals) text = text.replaceAll(from, to)
    const script = join(dir, file)
    writeFileSync(script, text)
    const run = await runScript(lab.ns.gw, script, {})
    checkScriptRun(t, run, file, 'ipfwadm')
    return run
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Waits until the gateway's via set for `addr` holds exactly `names`. */
const viaSetHolds = async (lab: Lab, addr: string, names: string[]): Promise<boolean> => {
  const set = `via_${addr.replaceAll('.', '_')}`
  const end = Date.now() + 5000
  for (;;) {
    const r = lab.exec('gw', ['nft', '-j', 'list', 'set', 'ip', 'legacyfw_ipfwadm', set])
    const elems = r.status === 0 ? ((JSON.parse(r.stdout).nftables as { set?: { elem?: string[] } }[]).find((o) => o.set)?.set?.elem ?? []) : []
    if (JSON.stringify([...elems].sort()) === JSON.stringify(names)) return true
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 50))
  }
}

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  // -------------------------------------------------------------------------
  t.test('IP-Masquerade HOWTO 2000: stronger rc.firewall for 2.0.x (static PPP)', async (t) => {
    await withLab(async (lab) => {
      const run = await runInGateway(t, lab, 'ipmasq-howto-2000-rc.firewall-2.0.x-strong.sh', { ppp_ip: GW_WAN }, [
        ['192.168.0.', '192.168.1.'],
        ['ppp0', 'wan0'],
      ])
      t.equal(run.calls.length, 21, 'the script ran its 21 ipfwadm commands')
      // input: 1 -V lan accept, 2 -V ppp spoof reject -o, 3 -V ppp -> ppp_ip accept, 4 lo, 5 reject -o
      // output: 1 -V lan -> lan accept, 2-4 -V ppp lan reject -o, 5 -V ppp from ppp_ip, 6 lo, 7 reject -o
      // forward (policy deny): 1 masquerade -W wan0 lan, 2 reject -o
      const wan = await lab.serve('wan', { tcp: [8080], udp: [9000] })
      const lanServer = await lab.serve('lan', { tcp: [2222], udp: [2223] })
      const gwServer = await lab.serve('gw', { tcp: [2424], udp: [2424] })

      await t.test('lan reaches wan masqueraded, from ports 61000-65095', async (t) => {
        checkMasqueraded(t, await lab.tcp('lan', WAN, 8080, { src: LAN10 }), 'TCP')
        const before = listed(lab, '-F')
        const u = await lab.udp('lan', WAN, 9000, { src: LAN11, count: 3, size: 50 })
        const after = listed(lab, '-F')
        checkMasqueraded(t, u, 'UDP')
        t.same(delta(before, after, 1), [3, 3 * (28 + 50)], 'forward #1 counted the datagrams, not the replies (they skip forward)')
        const ping = await lab.ping('lan', WAN, { src: LAN10 })
        t.same(ping, { result: 'reply', from: WAN }, 'ICMP is masqueraded')
      })

      await t.test('-M -l lists the masqueraded connections in the 2.0 format; an ICMP entry stops it', async (t) => {
        const masq = lab.ipfwadm('-M', '-l', '-n')
        t.equal(masq.stdout.split('\n')[0], 'IP masquerading entries')
        t.equal(masq.status, 1, 'the ICMP entry of the ping makes it fail as 2.0 did')
        t.equal(masq.stderr, "ipfwadm: unexpected input data\nTry `ipfwadm -h' for more information.\n")
        lab.exec('gw', ['conntrack', '-D', '-p', 'icmp'])
        const again = lab.ipfwadm('-M', '-l', '-n', '-e')
        t.equal(again.status, 0, again.stderr)
        t.match(again.stdout, /^prot expire {6}initseq delta prevd source {15}destination {10}ports$/m, '-e header')
        t.match(
          again.stdout,
          new RegExp(
            `^tcp  \\d+:\\d\\d\\.\\d\\d {10}0 {5}0 {5}0 ${LAN10.replaceAll('.', '\\.')} +${WAN.replaceAll('.', '\\.')} +\\d+ \\(6\\d{4}\\) -> 8080$`,
            'm',
          ),
          'the TCP entry',
        )
        const udp = new RegExp(`^udp  (\\d\\d):(\\d\\d)\\.\\d\\d {10}0`, 'm').exec(again.stdout)
        const expire = udp ? Number(udp[1]) * 60 + Number(udp[2]) : -1
        t.ok(expire > 30 && expire <= 60, `the UDP entry expires within the script's -M -s udp 60 (${expire} s)`)
      })

      await t.test("wan reaches only the gateway's own address", async (t) => {
        const own = await lab.tcp('wan', GW_WAN, 2424, { timeout: SILENCE })
        t.equal(own.result, 'reply', 'a gateway service on ppp_ip answers')
        t.equal(seen(own.text).peer, WAN)
        await withRouteBack(lab, LAN12, () =>
          withRouteBack(lab, GW_LAN, async () => {
            const before = listed(lab, '-I')
            const tcp = await lab.tcp('wan', LAN12, 2222, { timeout: SILENCE })
            const udp = await lab.udp('wan', LAN12, 2223, { timeout: SILENCE })
            const inside = await lab.tcp('wan', GW_LAN, 2424, { timeout: SILENCE })
            const after = listed(lab, '-I')
            for (const [what, p] of [
              ['TCP to a lan host', tcp],
              ['UDP to a lan host', udp],
              ["TCP to the gateway's lan address", inside],
            ] as const)
              t.same([p.result, p.type, p.code, p.from], ['icmp', 3, 3, GW_WAN], `${what}: input reject answers port-unreachable`)
            t.same(lanServer.events, [], 'nothing reached the lan')
            t.equal(delta(before, after, 5)[0], 3, 'the input catch-all reject counted all three')
          }),
        )
      })

      await t.test('spoofed inside sources on wan are denied and logged', async (t) => {
        const before = listed(lab, '-I')
        const events = gwServer.events.length
        const bytes = await lab.spoof('wan', { src: '192.168.1.77', dst: GW_WAN, dport: 2424, count: 4 })
        const after = listed(lab, '-I')
        t.same(delta(before, after, 2), [4, bytes], 'input #2 (reject -V ppp_ip -S lan -o) counted them')
        t.same(delta(before, after, 3), [0, 0], 'they went no further')
        t.equal(gwServer.events.length, events, 'the gateway service saw nothing')
        t.match(after[1]?.line ?? '', /^\s*\d+\s+\d+ rej\s+all\s+---o /, 'the rule logs (-o)')
        const nft = lab.exec('gw', ['nft', 'list', 'chain', 'ip', 'legacyfw_ipfwadm', 'input_rules']).stdout
        t.match(
          nft,
          /ip saddr 192\.168\.1\.0\/24 iifname @via_203_0_113_1 counter name "\w+" log prefix "IP fw-in rej " group 20 reject/,
          'the kernel logs it with the 2.0 prefix',
        )
      })

      await t.test('un-masqueraded leaks are caught by the output rules', async (t) => {
        // A forward rule that lets lan12 through without masquerading.
        t.equal(lab.ipfwadm('-F', '-i', 'accept', '-S', `${LAN12}/32`, '-D', '0/0').status, 0)
        const before = listed(lab, '-O')
        const p = await lab.udp('lan', WAN, 9000, { src: LAN12, timeout: SILENCE })
        const after = listed(lab, '-O')
        t.equal(p.result, 'timeout', 'the leak got no answer')
        t.notOk(
          wan.events.some((e) => e.peer.startsWith(`${LAN12}:`)),
          'wan never saw the inside address',
        )
        t.equal(delta(before, after, 3)[0], 1, 'output #3 (reject -V ppp_ip -S lan -o) caught it')
        t.equal(lab.ipfwadm('-F', '-d', 'accept', '-S', `${LAN12}/32`, '-D', '0/0').status, 0)
      })

      await t.test('-V follows the address of the interface (a PPP address that moves)', async (t) => {
        const NEW = '203.0.113.9'
        t.equal(
          lab.ipfwadm('-A', 'in', '-i', '-V', NEW, '-P', 'udp', '-D', '0/0', '9999').status,
          0,
          'an accounting rule for an address no interface has yet',
        )
        t.equal(lab.ipfwadm('-A', 'in', '-i', '-V', GW_WAN, '-P', 'udp', '-D', '0/0', '9999').status, 0, 'and one for the current address')
        const send = async (to: string): Promise<void> => {
          await lab.udp('wan', to, 9999, { timeout: 0.3 })
        }
        let before = listed(lab, '-A')
        await send(GW_WAN)
        let after = listed(lab, '-A')
        t.same([delta(before, after, 1)[0], delta(before, after, 2)[0]], [1, 0], `counted on wan0 while it is ${GW_WAN}`)
        // The link comes back with another address: ppp_ip rules must stop matching, NEW ones start.
        lab.exec('gw', ['ip', 'addr', 'del', `${GW_WAN}/24`, 'dev', 'wan0'])
        lab.exec('gw', ['ip', 'addr', 'add', `${NEW}/24`, 'dev', 'wan0'])
        t.ok(await viaSetHolds(lab, NEW, ['wan0']), 'the watcher moved wan0 into the set of the new address')
        t.ok(await viaSetHolds(lab, GW_WAN, []), 'and out of the old one')
        before = listed(lab, '-A')
        await send(NEW)
        after = listed(lab, '-A')
        t.same([delta(before, after, 1)[0], delta(before, after, 2)[0]], [0, 1], `counted by the -V ${NEW} rule after the change`)
        lab.exec('gw', ['ip', 'addr', 'del', `${NEW}/24`, 'dev', 'wan0'])
        lab.exec('gw', ['ip', 'addr', 'add', `${GW_WAN}/24`, 'dev', 'wan0'])
        t.ok(await viaSetHolds(lab, GW_WAN, ['wan0']), 'and back')
        before = listed(lab, '-A')
        await send(GW_WAN)
        after = listed(lab, '-A')
        t.same([delta(before, after, 1)[0], delta(before, after, 2)[0]], [1, 0], 'the old rule matches again')
      })
      wan.stop()
      lanServer.stop()
      gwServer.stop()
    })
  })

  // -------------------------------------------------------------------------
  t.test('NET-3/4 HOWTO accounting: -A in/out rules count real traffic', async (t) => {
    await withLab(async (lab) => {
      const run = await runInGateway(t, lab, 'net3-4-howto-accounting-ipfwadm.sh', { localnet: '192.168.1.0/24' })
      t.equal(run.calls.length, 18, 'the script ran its 18 ipfwadm commands')
      t.match(run.stdout, /^IP accounting rules\n/, 'its own -A -l -n listing')
      // 7 in udp -D localnet, 8 out udp -S localnet, 15 in udp -D any, 16 out udp -S any;
      // 5/6 and 13/14: all TCP; 3/4 and 11/12: www.
      const wan = await lab.serve('wan', { tcp: [80] })
      const before = listed(lab, '-A')
      const count = 6
      const bytes = await lab.spoof('lan', { src: LAN10, dst: WAN, dport: 9000, count, size: 120 })
      const mid = listed(lab, '-A')
      t.same(delta(before, mid, 15), [count, bytes], 'in udp -D any: every datagram as it arrived on lan0')
      t.same(delta(before, mid, 7), [0, 0], 'in udp -D localnet: none (they were not for the lan)')
      t.same(delta(before, mid, 8), [count, bytes], 'out udp -S localnet: every datagram as it left on wan0')
      t.same(delta(before, mid, 16), [count, bytes], 'out udp -S any: the same')
      t.same(delta(before, mid, 13), [0, 0], 'the TCP rules counted nothing')
      await withRouteBack(lab, LAN10, async () => {
        const p = await lab.tcp('lan', WAN, 80, { src: LAN10 })
        t.equal(p.result, 'reply', 'the web server answered')
      })
      await new Promise((r) => setTimeout(r, 300))
      const after = listed(lab, '-A')
      const [requestsIn, repliesIn, tcpIn] = [11, 5, 13].map((n) => delta(mid, after, n)[0] ?? -1)
      const [requestsOut, repliesOut, tcpOut] = [6, 12, 14].map((n) => delta(mid, after, n)[0] ?? -1)
      t.ok((requestsIn ?? 0) > 0 && (repliesIn ?? 0) > 0, `in: www requests (${requestsIn}) and replies to localnet (${repliesIn}) counted`)
      t.equal(tcpIn, (requestsIn ?? 0) + (repliesIn ?? 0), 'in tcp -D any counted both')
      t.equal(requestsOut, requestsIn, 'out tcp -S localnet counted each request again as it left')
      t.equal(repliesOut, repliesIn, 'out www (source port) counted each reply again as it left')
      t.equal(tcpOut, (requestsOut ?? 0) + (repliesOut ?? 0), 'out tcp -S any counted both')
      const zeroed = lab.ipfwadm('-A', '-l', '-z', '-e', '-x', '-n')
      t.equal(zeroed.status, 0)
      t.same(
        counterRows(zeroed.stdout).map((r) => r.pkts),
        after.map((r) => r.pkts),
        '-l -z listed the counters as they were',
      )
      t.ok(
        listed(lab, '-A').every((r) => r.pkts === 0 && r.bytes === 0),
        'and zeroed them',
      )
      wan.stop()
    })
  })

  // -------------------------------------------------------------------------
  t.test('IP-Masquerade HOWTO 2005: rc.firewall-ipfwadm (simple)', async (t) => {
    await withLab(async (lab) => {
      const run = await runInGateway(t, lab, 'ipmasq-howto-2005-rc.firewall-ipfwadm.sh', { EXTIF: 'wan0', INTIF: 'lan0', INTLAN: '192.168.1.0/24' })
      t.equal(run.calls.length, 9, 'the script ran its 9 ipfwadm commands')
      const wan = await lab.serve('wan', { tcp: [8080], udp: [9000] })
      checkMasqueraded(t, await lab.tcp('lan', WAN, 8080, { src: LAN11 }), 'TCP')
      await withRouteBack(lab, LAN12, async () => {
        const inbound = await lab.tcp('wan', LAN12, 8080, { timeout: SILENCE })
        t.equal(inbound.result, 'timeout', 'wan cannot reach the lan: forward policy deny drops silently')
      })
      t.match(
        lab.ipfwadm('-F', '-l').stdout,
        /^IP firewall forward rules, default policy: deny\ntype  prot source {15}destination {10}ports\nacc\/m all  192\.168\.1\.0\/24 +anywhere +n\/a\n$/,
        'the listing',
      )
      const u = await lab.udp('lan', WAN, 9000, { src: LAN10 })
      t.equal(u.result, 'reply', 'UDP is masqueraded too')
      // -M -s 7200 10 160: UDP entries live 160 s; a TCP connection closed both ways 10 s.
      const masq = lab.ipfwadm('-M', '-l', '-n').stdout
      const left = (proto: string, host: string): number => {
        const m = new RegExp(`^${proto}  (\\d+):(\\d\\d)\\.\\d\\d ${host.replaceAll('.', '\\.')} `, 'm').exec(masq)
        return m ? Number(m[1]) * 60 + Number(m[2]) : -1
      }
      t.ok(
        left('tcp', LAN11) >= 0 && left('tcp', LAN11) <= 10,
        `the closed TCP connection expires within the FIN timeout (${left('tcp', LAN11)} s)\n${masq}`,
      )
      t.ok(left('udp', LAN10) > 150 && left('udp', LAN10) <= 160, `the UDP entry expires within 160 s (${left('udp', LAN10)} s)`)
      wan.stop()
    })
  })
}
