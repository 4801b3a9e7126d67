// What the helper-module lab tests share: a gateway script that loads a
// module with a modprobe line (or does not) and masquerades with ipchains,
// applied by `legacyfw run` or by `legacyfw translate` + `nft -f`, on a lab
// whose veths check checksums (offload off, so a wrong one is dropped).
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { projectPath } from '../../src/runtime/project.ts'
import type { Lab } from '../../src/runtime/lab.ts'
import { withoutTapLoader } from './netns.ts'
import { withLab } from './lab.ts'

const LEGACYFW = projectPath('bin', 'legacyfw')

/** The gateway of the issue: forward policy DENY, the lan masqueraded. */
export const MASQ_GATEWAY = ['ipchains -P forward DENY', 'ipchains -A forward -s 192.168.1.0/24 -j MASQ'] as const

/** The same with ipfwadm (Linux 2.0): forward policy deny, the lan masqueraded. */
export const IPFWADM_MASQ_GATEWAY = ['ipfwadm -F -p deny', 'ipfwadm -F -a m -S 192.168.1.0/24 -D 0/0'] as const

/** Writes the gateway script into `dir`: the module line (when `withModule`), the masquerading, then `extra`. */
export const gatewayScript = (
  dir: string,
  name: string,
  module: string,
  withModule: boolean,
  extra: readonly string[] = [],
  gateway: readonly string[] = MASQ_GATEWAY,
): string => {
  const path = join(dir, `${name.replace(/\W+/g, '-')}-${withModule ? 'with' : 'without'}.sh`)
  writeFileSync(path, [...(withModule ? [module] : []), ...gateway, ...extra, ''].join('\n'))
  return path
}

/** Checksum offload off on every veth of the lab. */
export const offloadOff = (lab: Lab): void => {
  for (const [place, iface] of [
    ['lan', 'eth0'],
    ['gw', 'lan0'],
    ['gw', 'wan0'],
    ['wan', 'eth0'],
  ] as const) {
    const r = lab.exec(place, ['ethtool', '-K', iface, 'tx', 'off', 'rx', 'off'])
    if (r.status !== 0) throw new Error(`ethtool -K ${iface}: ${r.stderr}`)
  }
}

/** The gateway with nothing loaded: every table and connection gone. */
export const resetGateway = (lab: Lab): void => {
  lab.exec('gw', ['nft', 'flush', 'ruleset'])
  lab.exec('gw', ['conntrack', '-F'])
}

export type Apply = (t: Test, lab: Lab, script: string) => void

const applyByRun: Apply = (t, lab, script) => {
  const r = lab.exec('gw', [LEGACYFW, 'run', script])
  t.equal(r.status, 0, `legacyfw run: ${r.stderr}`)
}

const applyByTranslate: Apply = (t, lab, script) => {
  const [cmd, ...args] = withoutTapLoader([
    LEGACYFW,
    'translate',
    '--no-mirror',
    '--iface',
    'lan0=192.168.1.1/24',
    '--iface',
    'wan0=203.0.113.1/24',
    script,
  ])
  const r = spawnSync(cmd as string, args, { encoding: 'utf8' })
  t.equal(r.status, 0, `legacyfw translate: ${r.stderr}`)
  const file = `${script}.nft`
  writeFileSync(file, r.stdout)
  t.equal(lab.exec('gw', ['nft', '-f', file]).stderr, '', 'nft -f loads the translation')
}

/** Both ways of putting a script's firewall in the gateway. */
export const APPLY: readonly (readonly [string, Apply])[] = [
  ['legacyfw run', applyByRun],
  ['legacyfw translate + nft -f', applyByTranslate],
]

/** One subtest of `parent` per way of applying the gateway's script, each in a fresh lab with checksum offload off. */
export const eachWay = (
  parent: Test,
  body: (t: Test, lab: Lab, apply: Apply, how: string) => Promise<void>,
  options: { readonly timeout?: number } = {},
): void => {
  for (const [how, apply] of APPLY)
    void parent.test(how, options, async (t) => {
      await withLab(async (lab) => {
        offloadOff(lab)
        await body(t, lab, apply, how)
      })
    })
}
