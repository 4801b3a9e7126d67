// ipautofw / ipmasqadm with real traffic: a lan/gw/wan lab whose gateway
// masquerades with ipchains (forward policy DENY, lan -j MASQ), and the
// seeds' recipes: CU-SeeMe (-u), RealAudio (15 s), a fixed host (-h), a
// second lan host taking the control port over, portfw with preferences
// 2:1, and mfw with marks set by ipchains -m (absolute and relative).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { projectPath } from '../src/runtime/project.ts'
import { GW_WAN, LAN_ADDRS, type Lab, WAN, withLab } from './helpers/lab.ts'
import { requireRootAndNft } from './helpers/netns.ts'

const [LAN10, LAN11, LAN12] = LAN_ADDRS
const IPMASQADM = projectPath('bin', 'ipmasqadm')

const missing = requireRootAndNft() ?? (spawnSync('python3', ['-c', '1']).status === 0 ? undefined : 'these tests need python3')

const masqadm = (lab: Lab, ...args: string[]) => lab.exec('gw', [IPMASQADM, ...args])

/** The address:port a lan server saw a wan flow arrive at, and from whom. */
const localOf = (text: string | undefined): string => /local=(\S+)/.exec(text ?? '')?.[1] ?? ''
const peerOf = (text: string | undefined): string => /peer=([\d.]+):/.exec(text ?? '')?.[1] ?? ''

const ipchainsGateway = (t: Tap, lab: Lab): void => {
  for (const args of [
    ['-P', 'forward', 'DENY'],
    ['-A', 'forward', '-s', '192.168.1.0/24', '-j', 'MASQ'],
  ])
    t.equal(lab.ipchains(...args).status, 0, `ipchains ${args.join(' ')}`)
}

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

if (missing) t.fail(missing)
else {
  t.test('autofw on an ipchains gateway: CU-SeeMe, RealAudio, fixed host, takeover', async (t) => {
    await withLab(async (lab) => {
      ipchainsGateway(t, lab)
      for (const args of [
        ['autofw', '-A', '-r', 'udp', '7648', '7649', '-c', 'udp', '7648', '-u'],
        ['autofw', '-A', '-r', 'udp', '6970', '7170', '-c', 'tcp', '7070'],
        ['autofw', '-A', '-r', 'udp', '7300', '7301', '-h', LAN12],
      ])
        t.equal(masqadm(lab, ...args).status, 0, `ipmasqadm ${args.join(' ')}`)
      await lab.serve('wan', { tcp: [7070], udp: [7648] })
      await lab.serve('lan', { udp: [7648, 7649, 7650, 6970, 6990, 7300] })

      const before = await lab.udp('wan', GW_WAN, 7649, { timeout: 1 })
      t.equal(before.result, 'timeout', 'CU-SeeMe: nothing is forwarded before the control port is used')
      const fixed = await lab.udp('wan', GW_WAN, 7300, { timeout: 2 })
      t.equal(fixed.result, 'reply', '-h: forwarded without any trigger')
      t.equal(localOf(fixed.text), `${LAN12}:7300`, '-h: to the fixed host')

      const trigger = await lab.udp('lan', WAN, 7648, { src: LAN10, timeout: 2 })
      t.equal(trigger.result, 'reply', 'CU-SeeMe: the control packet goes out masqueraded')
      const data = await lab.udp('wan', GW_WAN, 7649, { timeout: 2 })
      t.equal(data.result, 'reply', 'CU-SeeMe: inbound data after the trigger is forwarded and answered')
      t.equal(localOf(data.text), `${LAN10}:7649`, 'CU-SeeMe: to the host that used the control port, same port')
      t.equal(peerOf(data.text), WAN, 'CU-SeeMe: the lan host sees the real remote address')
      const ctl = await lab.udp('wan', GW_WAN, 7648, { timeout: 2 })
      t.equal(localOf(ctl.text), `${LAN10}:7648`, 'CU-SeeMe: the low end of the range too')
      const outside = await lab.udp('wan', GW_WAN, 7650, { timeout: 1 })
      t.not(outside.result, 'reply', 'CU-SeeMe: a port outside the range is not forwarded')

      const takeover = await lab.udp('lan', WAN, 7648, { src: LAN11, timeout: 2 })
      t.equal(takeover.result, 'reply', 'takeover: a second lan host uses the control port')
      const moved = await lab.udp('wan', GW_WAN, 7649, { timeout: 2 })
      t.equal(localOf(moved.text), `${LAN11}:7649`, 'takeover: new flows go to the second host')

      const ra = await lab.tcp('lan', WAN, 7070, { src: LAN10, timeout: 3 })
      t.equal(ra.result, 'reply', 'RealAudio: the control connection to tcp 7070')
      const start = Date.now()
      const audio = await lab.udp('wan', GW_WAN, 6970, { timeout: 2 })
      t.equal(localOf(audio.text), `${LAN10}:6970`, 'RealAudio: inbound udp in 6970-7170 reaches the lan host')
      t.ok(Date.now() - start < 15000, 'RealAudio: within 15 s')

      await new Promise((r) => setTimeout(r, 16000 - (Date.now() - start)))
      const late = await lab.udp('wan', GW_WAN, 6990, { timeout: 1 })
      t.equal(late.result, 'timeout', 'RealAudio: 16 s after the last control packet a new flow is not forwarded')
      const kept = await lab.udp('wan', GW_WAN, 7649, { timeout: 2 })
      t.equal(localOf(kept.text), `${LAN11}:7649`, 'CU-SeeMe -u: the entry does not expire')
    })
  })

  t.test('portfw on an ipchains gateway: prefs 2:1 split 30 connections 20/10', async (t) => {
    await withLab(async (lab) => {
      ipchainsGateway(t, lab)
      t.equal(masqadm(lab, 'portfw', '-a', '-P', 'tcp', '-L', GW_WAN, '80', '-R', LAN10, '80', '-p', '2').status, 0)
      t.equal(masqadm(lab, 'portfw', '-a', '-P', 'tcp', '-L', GW_WAN, '80', '-R', LAN11, '80', '-p', '1').status, 0)
      await lab.serve('lan', { tcp: [80] })
      const seen: string[] = []
      for (let i = 0; i < 30; i++) {
        const p = await lab.tcp('wan', GW_WAN, 80, { timeout: 3 })
        seen.push(`${localOf(p.text)} from ${peerOf(p.text)}`)
      }
      const count = (s: string) => seen.filter((x) => x === s).length
      t.equal(count(`${LAN10}:80 from ${WAN}`), 20, 'pref 2: 20 connections, with the real client address')
      t.equal(count(`${LAN11}:80 from ${WAN}`), 10, 'pref 1: 10 connections, with the real client address')
      t.same(seen.slice(0, 3).map((s) => s.split(':')[0]), [LAN11, LAN10, LAN10], 'in 2.2 order: the newest entry first, then its turn passes')
      const one = await lab.tcp('wan', GW_WAN, 80, { timeout: 3 })
      t.equal(localOf(one.text), `${LAN11}:80`, 'the 31st starts the next round')
      const listing = masqadm(lab, 'portfw', '-l', '-n')
      t.equal(
        listing.stdout,
        'prot localaddr            rediraddr               lport    rport  pcnt  pref\n' +
          `TCP  ${GW_WAN.padEnd(20)} ${LAN10.padEnd(20)}       80       80     2     2\n` +
          `TCP  ${GW_WAN.padEnd(20)} ${LAN11.padEnd(20)}       80       80     1     1\n`,
        'portfw -l reads the rotation back from the kernel',
      )
    })
  })

  t.test('mfw: marks from ipchains -m (absolute and relative) choose the host', async (t) => {
    await withLab(async (lab) => {
      ipchainsGateway(t, lab)
      for (const args of [
        ['-A', 'input', '-p', 'tcp', '-d', `${GW_WAN}/32`, '8000', '-y', '-m', '1'],
        ['-A', 'input', '-p', 'tcp', '-d', `${GW_WAN}/32`, '8002', '-y', '-m', '+2'],
      ])
        t.equal(lab.ipchains(...args).status, 0, `ipchains ${args.join(' ')}`)
      t.equal(masqadm(lab, 'mfw', '-A', '-m', '1', '-r', LAN12, '80').status, 0)
      t.equal(masqadm(lab, 'mfw', '-A', '-m', '2', '-r', LAN11).status, 0)
      await lab.serve('lan', { tcp: [80, 8002] })
      const marked = await lab.tcp('wan', GW_WAN, 8000, { timeout: 3 })
      t.equal(localOf(marked.text), `${LAN12}:80`, 'mark 1 (absolute): to its mfw host and port')
      t.equal(peerOf(marked.text), WAN, 'the mfw host sees the real client')
      const relative = await lab.tcp('wan', GW_WAN, 8002, { timeout: 3 })
      t.equal(localOf(relative.text), `${LAN11}:8002`, 'mark +2 (relative): to its host, on the packet\'s own port')
      const unmarked = await lab.tcp('wan', GW_WAN, 8001, { timeout: 2 })
      t.not(unmarked.result, 'reply', 'an unmarked port is not forwarded')
    })
  })
}
