// SIP through masquerading (ip_masq_sip, this project's 2.2-style name for
// the kernel's sip helper): sipp calls from the lan (uac 192.168.1.10)
// through the gateway to a callee in the wan (uas 203.0.113.50), both send
// RTP (236 packets each, tools/sipp/). With the module line the callee's
// INVITE shows c=, o=, Via and Contact with the masquerade address and
// every RTP packet reaches the phone; without it the SDP says 192.168.1.10
// and no RTP comes back. Via `legacyfw run` and `translate` + `nft -f`.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { projectPath } from '../src/runtime/project.ts'
import { GW_WAN, LAN_ADDRS, type Lab, type Place, WAN } from './helpers/lab.ts'
import { requireRootAndNft } from './helpers/netns.ts'
import { eachWay, gatewayScript, resetGateway } from './helpers/alg-lab.ts'

const [LAN10] = LAN_ADDRS
const UAC = projectPath('tools', 'sipp', 'uac-media.xml')
const UAS = projectPath('tools', 'sipp', 'uas-media.xml')
const MEDIA_PORT = 6000
const RTP_PACKETS = 236

const missing =
  requireRootAndNft() ??
  (spawnSync('sipp', ['-v']).error ? 'these tests need sipp (apt-get install sip-tester)' : undefined) ??
  (spawnSync('ethtool', ['--version']).status === 0 ? undefined : 'these tests need ethtool')

const tmp = mkdtempSync(join(tmpdir(), 'lfw-alg-sip-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

/** A table in `place` counting RTP to the media port from `from`. */
const countRtp = (lab: Lab, place: Place, from: string): (() => number) => {
  lab.exec(place, ['nft', 'delete', 'table', 'ip', 'rtp'])
  const load = lab.exec(
    place,
    ['nft', '-f', '-'],
    `table ip rtp {\n chain in {\n type filter hook input priority 0;\n ip saddr ${from} udp dport ${MEDIA_PORT} counter\n }\n}\n`,
  )
  if (load.status !== 0) throw new Error(`rtp counter: ${load.stderr}`)
  return () => Number(/counter packets (\d+)/.exec(lab.exec(place, ['nft', 'list', 'table', 'ip', 'rtp']).stdout)?.[1] ?? -1)
}

/** One call; what the callee saw of the INVITE, and the RTP each side received. */
const call = async (lab: Lab, name: string): Promise<{ invite: string; phone: number; callee: number; uac: number | null }> => {
  const phone = countRtp(lab, 'lan', WAN)
  const callee = countRtp(lab, 'wan', GW_WAN)
  const messages = join(tmp, `${name}.msg`)
  const uas = lab.background('wan', [
    'sipp',
    '-sf',
    UAS,
    '-i',
    WAN,
    '-p',
    '5060',
    '-mi',
    WAN,
    '-mp',
    String(MEDIA_PORT),
    '-m',
    '1',
    '-nostdin',
    '-trace_msg',
    '-message_file',
    messages,
    '-timeout',
    '30s',
  ])
  const uasEnded = new Promise((resolve) => uas.on('close', resolve))
  await new Promise((r) => setTimeout(r, 500))
  const uac = lab.exec('lan', [
    'sipp',
    '-sf',
    UAC,
    '-i',
    LAN10 as string,
    '-p',
    '5060',
    '-mp',
    String(MEDIA_PORT),
    '-m',
    '1',
    '-nostdin',
    '-timeout',
    '30s',
    `${WAN}:5060`,
  ])
  await uasEnded
  await new Promise((r) => setTimeout(r, 300))
  const invite =
    readFileSync(messages, 'latin1')
      .split(/-{20,}/)
      .find((m) => m.includes('INVITE sip:')) ?? ''
  return { invite, phone: phone(), callee: callee(), uac: uac.status }
}

const MODULE = 'modprobe ip_masq_sip'

if (missing) t.fail(missing)
else
  eachWay(t, async (t, lab, apply, how) => {
    resetGateway(lab)
    apply(t, lab, gatewayScript(tmp, `sip-${how}`, MODULE, false))
    const without = await call(lab, `${how}-without`.replace(/\W+/g, '-'))
    t.match(without.invite, `c=IN IP4 ${LAN10}`, 'without the module the SDP names the internal phone')
    t.equal(without.phone, 0, 'and no RTP reaches the phone')

    resetGateway(lab)
    apply(t, lab, gatewayScript(tmp, `sip-${how}`, MODULE, true))
    const withHelper = await call(lab, `${how}-with`.replace(/\W+/g, '-'))
    t.equal(withHelper.uac, 0, 'the call completes')
    for (const line of [
      `c=IN IP4 ${GW_WAN}`,
      `o=user1 53655765 2353687637 IN IP4 ${GW_WAN}`,
      `Via: SIP/2.0/UDP ${GW_WAN}:`,
      `Contact: sip:sipp@${GW_WAN}:`,
    ])
      t.match(withHelper.invite, line, `the callee saw ${line}`)
    // The Call-ID is an opaque word: the kernel helper leaves it alone.
    const addressed = withHelper.invite.split('\n').filter((l) => !l.startsWith('Call-ID:'))
    t.notMatch(addressed.join('\n'), LAN10 as string, 'and nothing else of the internal address')
    t.equal(withHelper.phone, RTP_PACKETS, 'every RTP packet of the callee reached the phone')
    t.equal(withHelper.callee, RTP_PACKETS, 'every RTP packet of the phone reached the callee, masqueraded')
  })
