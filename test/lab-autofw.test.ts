// ipautofw / ipmasqadm with real traffic, on a gateway masquerading with
// ipchains (forward policy DENY, lan -j MASQ, `ipmasqadm autofw`, 2.2) and
// on one masquerading with ipfwadm (`-F -p deny`, `-F -a m`, `ipautofw`,
// 2.0): the seeds' recipes CU-SeeMe (-u) and RealAudio (15 s), a fixed host
// (-h), a second lan host taking the control port over, -p port bouncing,
// -d port preservation and the /proc files of `legacyfw proc`; then portfw
// with preferences 2:1 (also when SYNs are retransmitted), and mfw with
// marks set by ipchains -m (absolute and relative) and -S forcing a turn.
// The masquerading table (ipchains -M -L, ipfwadm -M -l, legacyfw proc
// ip_masquerade) lists every forwarded connection as 2.0/2.2 did.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { projectPath } from '../src/runtime/project.ts'
import { MASQADM_TABLE } from '../src/translate/ipmasqadm/state.ts'
import { kernelTableFromJson, talliesOf } from '../src/translate/nft/kernel-table.ts'
import { GW_WAN, LAN_ADDRS, type Lab, type Run, WAN, withLab } from './helpers/lab.ts'
import { requireRootAndNft } from './helpers/netns.ts'

const [LAN10, LAN11, LAN12] = LAN_ADDRS
const IPMASQADM = projectPath('bin', 'ipmasqadm')
const IPAUTOFW = projectPath('bin', 'ipautofw')
const LEGACYFW = projectPath('bin', 'legacyfw')

const missing = requireRootAndNft() ?? (spawnSync('python3', ['-c', '1']).status === 0 ? undefined : 'these tests need python3')

const masqadm = (lab: Lab, ...args: string[]) => lab.exec('gw', [IPMASQADM, ...args])
const proc = (lab: Lab, name: string): string => {
  const r = lab.exec('gw', [LEGACYFW, 'proc', name])
  if (r.status !== 0) throw new Error(`legacyfw proc ${name}: ${r.stderr}`)
  return r.stdout
}

/** The address:port a server saw a flow arrive at, and from whom. */
const localOf = (text: string | undefined): string => /local=(\S+)/.exec(text ?? '')?.[1] ?? ''
const peerOf = (text: string | undefined): string => /peer=([\d.]+):/.exec(text ?? '')?.[1] ?? ''
const peerPortOf = (text: string | undefined): number => Number(/peer=[\d.]+:(\d+)/.exec(text ?? '')?.[1] ?? -1)

const hex8 = (dotted: string): string =>
  dotted
    .split('.')
    .map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0'))
    .join('')
const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0')

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const ipchainsGateway = (t: Tap, lab: Lab): void => {
  for (const args of [
    ['-P', 'forward', 'DENY'],
    ['-A', 'forward', '-s', '192.168.1.0/24', '-j', 'MASQ'],
  ])
    t.equal(lab.ipchains(...args).status, 0, `ipchains ${args.join(' ')}`)
}

const ipfwadmGateway = (t: Tap, lab: Lab): void => {
  for (const args of [
    ['-F', '-p', 'deny'],
    ['-F', '-a', 'm', '-S', '192.168.1.0/24', '-D', '0/0'],
  ])
    t.equal(lab.ipfwadm(...args).status, 0, `ipfwadm ${args.join(' ')}`)
}

interface Gateway {
  readonly name: string
  readonly setup: (t: Tap, lab: Lab) => void
  /** The autofw program: ipautofw on 2.0, ipmasqadm autofw on 2.2. */
  readonly autofw: (lab: Lab, args: readonly string[]) => Run
  readonly procFile: string
  /** /proc/net/ip_masquerade: free ports per protocol before any entry. */
  readonly freeAtStart: number
  /** The masquerading table as the gateway's tool lists it, numeric. */
  readonly listMasq: (lab: Lab) => Run
  readonly kernel: '2.0' | '2.2'
}

const GATEWAYS: readonly Gateway[] = [
  {
    name: 'ipmasqadm autofw on an ipchains gateway (2.2)',
    setup: ipchainsGateway,
    autofw: (lab, args) => masqadm(lab, 'autofw', ...args),
    procFile: 'ip_masq/autofw',
    freeAtStart: 40960,
    listMasq: (lab) => lab.ipchains('-M', '-L', '-n'),
    kernel: '2.2',
  },
  {
    name: 'ipautofw on an ipfwadm gateway (2.0)',
    setup: ipfwadmGateway,
    autofw: (lab, args) => lab.exec('gw', [IPAUTOFW, ...args]),
    procFile: 'ip_autofw',
    freeAtStart: 4096,
    listMasq: (lab) => lab.ipfwadm('-M', '-l', '-n'),
    kernel: '2.0',
  },
]

/** The /proc line of the autofw entry for a port range, as fields. */
const procEntry = (text: string, low: number): string[] => {
  const line = text.split('\n').find((l) => l.includes(` ${hex4(low)}-`))
  if (!line) throw new Error(`no autofw entry for port ${low} in:\n${text}`)
  return line.trim().split(/\s+/)
}

/** A masq entry: the inside host and port, the outside one, the gateway's port. */
interface Entry {
  readonly proto: 'TCP' | 'UDP'
  readonly inside: string
  readonly iport: number
  readonly outside: string
  readonly oport: number
  readonly mport: number
  /** Forwarded, or autofw -d: the port was asked for, not taken from 61000-65095. */
  readonly specific: boolean
}

const portOf = (src: string): number => Number(src.split(':')[1])

/** A connection wan opened to the gateway, forwarded to `to` ("host:port" the server saw). */
const forwardedEntry = (proto: Entry['proto'], p: { src: string; text?: string }, mport: number): Entry => {
  const [inside = '', iport = ''] = localOf(p.text).split(':')
  return { proto, inside, iport: Number(iport), outside: WAN, oport: portOf(p.src), mport, specific: true }
}

/** A connection the lan opened to wan, masqueraded (the server saw the masq port). */
const outgoingEntry = (proto: Entry['proto'], p: { src: string; text?: string }, dport: number, specific = false): Entry => {
  const [inside = '', iport = ''] = p.src.split(':')
  return { proto, inside, iport: Number(iport), outside: WAN, oport: dport, mport: peerPortOf(p.text), specific }
}

/** The listing's rows without the expiry, sorted: "PROT SRC DST SPORT (MPORT) -> DPORT". */
const listedRows = (text: string): string[] =>
  text
    .split('\n')
    .slice(2)
    .filter((l) => l !== '')
    .map((l) => l.replace(/^(\S+)\s+\d\d:\d\d\.\d\d /, '$1 ').replace(/\s+/g, ' '))
    .sort()

const rowOf = (e: Entry, lower: boolean): string =>
  `${lower ? e.proto.toLowerCase() : e.proto} ${e.inside} ${e.outside} ${e.iport} (${e.mport}) -> ${e.oport}`

/** The /proc/net/ip_masquerade line of an entry, any expiry. */
const procLine = (e: Entry): RegExp =>
  new RegExp(`^${e.proto} ${hex8(e.inside)}:${hex4(e.iport)} ${hex8(e.outside)}:${hex4(e.oport)} ${hex4(e.mport)} 00000000      0      0 +\\d+ *$`)

/** 2.0 took a free port for every entry, 2.2 only for those from 61000-65095. */
const freeTitle = (entries: readonly Entry[], kernel: '2.0' | '2.2', atStart: number, icmp = 0): string => {
  const used = (proto: Entry['proto']) => entries.filter((e) => e.proto === proto && (kernel === '2.0' || !e.specific)).length
  return `Prc FromIP   FPrt ToIP     TPrt Masq Init-seq  Delta PDelta Expires (free=${atStart - used('UDP')},${atStart - used('TCP')},${atStart - icmp})`
}

const sleepUntil = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())))

if (missing) t.fail(missing)
else {
  for (const gw of GATEWAYS)
    t.test(`${gw.name}: CU-SeeMe, RealAudio, fixed host, takeover, -p, -d, /proc`, async (t) => {
      await withLab(async (lab) => {
        gw.setup(t, lab)
        for (const args of [
          ['-A', '-r', 'udp', '7648', '7649', '-c', 'udp', '7648', '-u'],
          ['-A', '-r', 'udp', '6970', '7170', '-c', 'tcp', '7070'],
          ['-A', '-r', 'udp', '7300', '7301', '-h', LAN12],
          ['-A', '-p', 'tcp', '8080', `${LAN12}:80`],
          ['-A', '-d', 'udp', '5000', '5010'],
        ])
          t.equal(gw.autofw(lab, args).status, 0, `autofw ${args.join(' ')}`)
        await lab.serve('wan', { tcp: [7070], udp: [7648, 5005, 9000] })
        await lab.serve('lan', { tcp: [80], udp: [7648, 7649, 7650, 6970, 6990, 7300] })
        t.same(
          procEntry(proc(lab, gw.procFile), 7648).slice(4),
          ['00000000', '00000000', '0011', '1DE0', '0', '4'],
          'proc: CU-SeeMe, nothing learned yet',
        )

        const before = await lab.udp('wan', GW_WAN, 7649, { timeout: 1 })
        t.equal(before.result, 'timeout', 'CU-SeeMe: nothing is forwarded before the control port is used')
        const fixed = await lab.udp('wan', GW_WAN, 7300, { timeout: 3 })
        t.equal(localOf(fixed.text), `${LAN12}:7300`, '-h: forwarded to the fixed host without any trigger')
        const bounced = await lab.tcp('wan', GW_WAN, 8080, { timeout: 3 })
        t.equal(localOf(bounced.text), `${LAN12}:80`, '-p: the visible port bounces to host:hidden')
        t.equal(peerOf(bounced.text), WAN, '-p: the internal host sees the real client')
        const notBounced = await lab.tcp('wan', GW_WAN, 8081, { timeout: 2 })
        t.not(notBounced.result, 'reply', '-p: only the visible port')

        const ra = await lab.tcp('lan', WAN, 7070, { src: LAN10, timeout: 3 })
        t.equal(ra.result, 'reply', 'RealAudio: the control connection to tcp 7070')
        const start = Date.now()
        const audio = await lab.udp('wan', GW_WAN, 6970, { timeout: 3 })
        t.equal(localOf(audio.text), `${LAN10}:6970`, 'RealAudio: inbound udp in 6970-7170 reaches the lan host')
        t.ok(Date.now() - start < 15000, 'RealAudio: within 15 s')
        const [, , , , where, last, , , timer, flags] = procEntry(proc(lab, gw.procFile), 6970)
        t.same([where, last, flags], [hex8(LAN10), hex8(WAN), '7'], 'proc: RealAudio learned its host and contact, ACTIVE|USETIME|SECURE')
        t.ok(Number(timer) > 1000 && Number(timer) <= 1500, `proc: the 15 s timer runs, in jiffies (${timer})`)

        const trigger = await lab.udp('lan', WAN, 7648, { src: LAN10, timeout: 3 })
        t.equal(trigger.result, 'reply', 'CU-SeeMe: the control packet goes out masqueraded')
        const data = await lab.udp('wan', GW_WAN, 7649, { timeout: 3 })
        t.equal(localOf(data.text), `${LAN10}:7649`, 'CU-SeeMe: inbound data after the trigger reaches the host that used the control port')
        t.equal(peerOf(data.text), WAN, 'CU-SeeMe: the lan host sees the real remote address, and its reply came back')
        const ctl = await lab.udp('wan', GW_WAN, 7648, { timeout: 3 })
        t.equal(localOf(ctl.text), `${LAN10}:7648`, 'CU-SeeMe: the low end of the range too')
        const outside = await lab.udp('wan', GW_WAN, 7650, { timeout: 1 })
        t.not(outside.result, 'reply', 'CU-SeeMe: a port outside the range is not forwarded')

        const takeover = await lab.udp('lan', WAN, 7648, { src: LAN11, timeout: 3 })
        t.equal(takeover.result, 'reply', 'takeover: a second lan host uses the control port')
        const moved = await lab.udp('wan', GW_WAN, 7649, { timeout: 3 })
        t.equal(localOf(moved.text), `${LAN11}:7649`, 'takeover: new flows go to the second host')
        t.same(
          procEntry(proc(lab, gw.procFile), 7648).slice(4),
          [hex8(LAN11), hex8(WAN), '0011', '1DE0', '0', '5'],
          'proc: CU-SeeMe -u: the new host, no timer, ACTIVE|SECURE',
        )

        const direct = await lab.udp('lan', WAN, 5005, { src: LAN10, sport: 40123, timeout: 3 })
        t.equal(peerPortOf(direct.text), 40123, '-d: a masqueraded connection to a port in the range keeps its source port')
        const masq = await lab.udp('lan', WAN, 9000, { src: LAN10, sport: 40124, timeout: 3 })
        const mport = peerPortOf(masq.text)
        t.ok(mport >= 61000 && mport <= 65095, `outside the -d range the masquerading port is from 61000-65095 (${mport})`)
        t.equal(peerOf(masq.text), GW_WAN, 'masqueraded to the gateway address')

        const entries: Entry[] = [
          forwardedEntry('UDP', fixed, 7300),
          forwardedEntry('TCP', bounced, 8080),
          outgoingEntry('TCP', ra, 7070),
          forwardedEntry('UDP', audio, 6970),
          outgoingEntry('UDP', trigger, 7648),
          forwardedEntry('UDP', data, 7649),
          forwardedEntry('UDP', ctl, 7648),
          outgoingEntry('UDP', takeover, 7648),
          forwardedEntry('UDP', moved, 7649),
          outgoingEntry('UDP', direct, 5005, true),
          outgoingEntry('UDP', masq, 9000),
        ]
        const listing = gw.listMasq(lab)
        t.equal(listing.status, 0, 'masquerading table listed')
        t.same(
          listedRows(listing.stdout),
          entries.map((e) => rowOf(e, gw.kernel === '2.0')).sort(),
          'it lists the forwarded (-h, -p, learned), -d and masqueraded connections, and nothing else',
        )
        const masquerade = proc(lab, 'ip_masquerade')
          .split('\n')
          .filter((l) => l !== '')
        t.ok(
          masquerade.every((l) => l.length === 127),
          'proc ip_masquerade: every line padded to 127 characters',
        )
        t.equal(masquerade[0]?.trimEnd(), freeTitle(entries, gw.kernel, gw.freeAtStart), `proc ip_masquerade: the free ports of ${gw.kernel}`)
        t.equal(masquerade.length, entries.length + 1, 'proc ip_masquerade: one line per entry')
        for (const e of entries)
          t.ok(
            masquerade.some((l) => procLine(e).test(l)),
            `proc ip_masquerade: ${rowOf(e, false)}`,
          )

        await sleepUntil(start + 16000)
        const late = await lab.udp('wan', GW_WAN, 6990, { timeout: 1 })
        t.equal(late.result, 'timeout', 'RealAudio: 16 s after the last control packet a new flow is not forwarded')
        const kept = await lab.udp('wan', GW_WAN, 7649, { timeout: 3 })
        t.equal(localOf(kept.text), `${LAN11}:7649`, 'CU-SeeMe -u: the entry does not expire')
      })
    })

  /** Connections the portfw rules sent on a turn (their numgen counters). */
  const portfwTurns = (lab: Lab): number => {
    const r = lab.exec('gw', ['nft', '-j', 'list', 'table', 'ip', MASQADM_TABLE])
    const kernel = kernelTableFromJson(JSON.parse(r.stdout), 'ip', MASQADM_TABLE)
    return [...talliesOf(kernel)].filter(([tag]) => tag.startsWith('portfw ')).reduce((n, [, c]) => n + c, 0)
  }

  // Every connection must get its answer (a slow one is not a lost one: the
  // clients wait 10 s), and each must take exactly one turn.
  const portfwRound = async (t: Tap, lab: Lab, n: number): Promise<string[]> => {
    const seen: string[] = []
    const failed: string[] = []
    for (let i = 0; i < n; i++) {
      const p = await lab.tcp('wan', GW_WAN, 80, { timeout: 10 })
      if (p.result !== 'reply') failed.push(`#${i + 1}: ${p.result}`)
      seen.push(`${localOf(p.text)} from ${peerOf(p.text)}`)
    }
    t.same(failed, [], `all ${n} connections answered`)
    t.equal(portfwTurns(lab), n, `${n} connections took ${n} turns`)
    return seen
  }

  const portfw21 = (t: Tap, lab: Lab, gateway = ipchainsGateway): void => {
    gateway(t, lab)
    t.equal(masqadm(lab, 'portfw', '-a', '-P', 'tcp', '-L', GW_WAN, '80', '-R', LAN10, '80', '-p', '2').status, 0)
    t.equal(masqadm(lab, 'portfw', '-a', '-P', 'tcp', '-L', GW_WAN, '80', '-R', LAN11, '80', '-p', '1').status, 0)
  }

  for (const [name, gateway, gw] of [
    ['ipchains', ipchainsGateway, GATEWAYS[0] as Gateway],
    ['ipfwadm', ipfwadmGateway, GATEWAYS[1] as Gateway],
  ] as const)
    t.test(`portfw on an ${name} gateway: prefs 2:1 split 30 connections 20/10`, async (t) => {
      await withLab(async (lab) => {
        portfw21(t, lab, gateway)
        await lab.serve('lan', { tcp: [80] })
        const seen = await portfwRound(t, lab, 30)
        const count = (s: string) => seen.filter((x) => x === s).length
        t.equal(count(`${LAN10}:80 from ${WAN}`), 20, 'pref 2: 20 connections, with the real client address')
        t.equal(count(`${LAN11}:80 from ${WAN}`), 10, 'pref 1: 10 connections, with the real client address')
        t.same(
          seen.slice(0, 3).map((s) => s.split(':')[0]),
          [LAN11, LAN10, LAN10],
          'in 2.2 order: the newest entry first, then its turn passes',
        )
        const one = await lab.tcp('wan', GW_WAN, 80, { timeout: 10 })
        t.equal(localOf(one.text), `${LAN11}:80`, 'the 31st starts the next round')
        const rows = listedRows(gw.listMasq(lab).stdout)
        const to = (host: string) =>
          rows.filter((r) => new RegExp(`^${gw.kernel === '2.0' ? 'tcp' : 'TCP'} ${host} ${WAN} 80 \\(80\\) -> \\d+$`).test(r)).length
        t.same(
          [to(LAN10), to(LAN11), rows.length],
          [20, 11, 31],
          'the masquerading table lists each forwarded connection: inside host:80, the client, masq port 80',
        )
        const title = proc(lab, 'ip_masquerade').split('\n')[0]?.trimEnd()
        t.equal(
          title,
          freeTitle(Array(31).fill({ proto: 'TCP', specific: true }), gw.kernel, gw.freeAtStart),
          `proc ip_masquerade: the free ports of ${gw.kernel}`,
        )
        const listing = masqadm(lab, 'portfw', '-l', '-n')
        t.equal(
          listing.stdout,
          'prot localaddr            rediraddr               lport    rport  pcnt  pref\n' +
            `TCP  ${GW_WAN.padEnd(20)} ${LAN10.padEnd(20)}       80       80     2     2\n` +
            `TCP  ${GW_WAN.padEnd(20)} ${LAN11.padEnd(20)}       80       80     1     1\n`,
          'portfw -l reads the rotation back from the kernel',
        )
        t.equal(
          proc(lab, 'ip_masq/portfw'),
          [
            'Prot LAddr    LPort > RAddr    RPort PrCnt  Pref',
            `TCP  ${hex8(GW_WAN)}    80 > ${hex8(LAN10)}    80     2     2`,
            `TCP  ${hex8(GW_WAN)}    80 > ${hex8(LAN11)}    80     1     1`,
          ]
            .map((l) => `${l.padEnd(63)}\n`)
            .join(''),
          'proc ip_masq/portfw: the same rotation',
        )
      })
    })

  // The SYN-ACK of every connection's first try is lost on the lan side, so
  // each connection retransmits: a retransmission belongs to its connection
  // and must not take another turn.
  t.test('portfw: retransmitted SYNs do not take a turn', async (t) => {
    await withLab(async (lab) => {
      portfw21(t, lab)
      const dropFirstSynAck =
        'table ip lossy {\n set answered { type inet_service; flags dynamic; }\n chain out {\n  type filter hook output priority 0;\n' +
        '  tcp sport 80 tcp flags & (syn | ack) == syn | ack tcp dport != @answered add @answered { tcp dport } drop\n }\n}\n'
      t.equal(lab.exec('lan', ['nft', '-f', '-'], dropFirstSynAck).stderr, '', 'lan loses the first SYN-ACK of every connection')
      await lab.serve('lan', { tcp: [80] })
      const seen = await portfwRound(t, lab, 6)
      t.same(
        seen.map((s) => s.split(':')[0]),
        [LAN11, LAN10, LAN10, LAN11, LAN10, LAN10],
        'the 2:1 order holds',
      )
      const lost = JSON.parse(lab.exec('lan', ['nft', '-j', 'list', 'set', 'ip', 'lossy', 'answered']).stdout) as {
        nftables: { set?: { elem?: unknown[] } }[]
      }
      t.equal(lost.nftables.find((i) => i.set)?.set?.elem?.length, 6, 'every connection did lose its first SYN-ACK')
    })
  })

  t.test('mfw: marks from ipchains -m (absolute and relative) choose the host; -S forces a turn', async (t) => {
    await withLab(async (lab) => {
      ipchainsGateway(t, lab)
      for (const args of [
        ['-A', 'input', '-p', 'tcp', '-d', `${GW_WAN}/32`, '8000', '-y', '-m', '1'],
        ['-A', 'input', '-p', 'tcp', '-d', `${GW_WAN}/32`, '8002', '-y', '-m', '+2'],
        ['-A', 'input', '-p', 'tcp', '-d', `${GW_WAN}/32`, '8003', '-y', '-m', '3'],
      ])
        t.equal(lab.ipchains(...args).status, 0, `ipchains ${args.join(' ')}`)
      for (const args of [
        ['-A', '-m', '1', '-r', LAN12, '80'],
        ['-A', '-m', '2', '-r', LAN11],
        ['-A', '-m', '3', '-r', LAN10, '80', '-p', '2'],
        ['-A', '-m', '3', '-r', LAN11, '80', '-p', '2'],
      ])
        t.equal(masqadm(lab, 'mfw', ...args).status, 0, `mfw ${args.join(' ')}`)
      await lab.serve('lan', { tcp: [80, 8002] })
      const marked = await lab.tcp('wan', GW_WAN, 8000, { timeout: 5 })
      t.equal(localOf(marked.text), `${LAN12}:80`, 'mark 1 (absolute): to its mfw host and port')
      t.equal(peerOf(marked.text), WAN, 'the mfw host sees the real client')
      const relative = await lab.tcp('wan', GW_WAN, 8002, { timeout: 5 })
      t.equal(localOf(relative.text), `${LAN11}:8002`, "mark +2 (relative): to its host, on the packet's own port")
      const unmarked = await lab.tcp('wan', GW_WAN, 8001, { timeout: 2 })
      t.not(unmarked.result, 'reply', 'an unmarked port is not forwarded')

      const rows = listedRows(lab.ipchains('-M', '-L', '-n').stdout)
      t.ok(rows.includes(rowOf(forwardedEntry('TCP', marked, 8000), false)), '-M -L: the mark 1 connection, to its host and port')
      t.ok(rows.includes(rowOf(forwardedEntry('TCP', relative, 8002), false)), '-M -L: the mark 2 connection, on its own port')

      const to3 = async (): Promise<string> => localOf((await lab.tcp('wan', GW_WAN, 8003, { timeout: 5 })).text).split(':')[0] ?? ''
      const first = await to3()
      t.equal(first, LAN10, 'mark 3: the head host (pref 2) takes the first connection')
      t.equal(masqadm(lab, 'mfw', '-S', '-m', '3').status, 0, 'mfw -S -m 3')
      const after = [await to3(), await to3(), await to3()]
      t.same(after, [LAN11, LAN11, LAN10], '-S: the head lost the rest of its turn; the next host takes its two, then the first again')
      t.equal(
        proc(lab, 'ip_masq/mfw')
          .split('\n')
          .filter((l) => l.startsWith('0x3 '))
          .map((l) => l.trimEnd())
          .join('\n'),
        `0x3 > ${hex8(LAN10)}    80     1     2\n0x3 > ${hex8(LAN11)}    80     2     2`,
        'proc ip_masq/mfw: the rotation as far as it has got',
      )
    })
  })
}
