// Policy tests of whole corpus scripts (test/policy-*.test.ts): what each
// script means to do, checked with real traffic through a lan/gw/wan lab,
// first with the script run live in the gateway (the bin/ tool per
// command), then with its `legacyfw translate` output loaded into the same
// gateway by plain `nft -f` in place of the live rules. Both must show the
// intended policy, probe for probe, and so behave alike.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { GW_LAN, GW_WAN, LAN_ADDRS, type Lab, WAN, inMasqRange, seen, withLab, withRouteBack } from './lab.ts'
import { runScript, setVariables } from '../../src/script/sandbox.ts'
import { translateScript } from '../../src/script/translate.ts'

const [LAN10, , LAN12] = LAN_ADDRS
const SILENCE = 1

export type Outcome = string
export type Outcomes = Record<string, Outcome>
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

/**
 * A probe's outcome in words: who answered and as whom the server saw the
 * client ("masqueraded" for the gateway's address from a masquerade port).
 */
const outcome = (p: { result: string; text?: string; type?: number; code?: number }): Outcome => {
  if (p.result === 'icmp') return `icmp ${p.type}/${p.code}`
  if (p.result !== 'reply') return p.result
  const s = seen(p.text)
  if (s.peer === GW_WAN && inMasqRange(s.port)) return 'reply, masqueraded'
  return `reply, seen from ${s.peer}`
}

/** The same probes for every script. */
const probe = async (lab: Lab): Promise<Outcomes> => {
  const o: Outcomes = {}
  o['lan -> wan tcp/8080'] = outcome(await lab.tcp('lan', WAN, 8080, { src: LAN10, timeout: SILENCE }))
  o['lan -> wan tcp/80'] = outcome(await lab.tcp('lan', WAN, 80, { src: LAN10, timeout: SILENCE }))
  o['lan -> wan udp/53'] = outcome(await lab.udp('lan', WAN, 53, { src: LAN10, timeout: SILENCE }))
  o['lan -> gw tcp/22'] = outcome(await lab.tcp('lan', GW_LAN, 22, { src: LAN10, timeout: SILENCE }))
  o['wan -> gw tcp/22'] = outcome(await lab.tcp('wan', GW_WAN, 22, { timeout: SILENCE }))
  o['wan -> gw tcp/2000'] = outcome(await lab.tcp('wan', GW_WAN, 2000, { timeout: SILENCE }))
  o['wan -> gw udp/53'] = outcome(await lab.udp('wan', GW_WAN, 53, { timeout: SILENCE }))
  await withRouteBack(lab, LAN12, async () => {
    o['wan -> lan tcp/2222'] = outcome(await lab.tcp('wan', LAN12, 2222, { timeout: SILENCE }))
  })
  return o
}

/** The intent of the three lan -> wan probes, which every script treats alike. */
export const lanToWan = (o: Outcome): Outcomes => ({ 'lan -> wan tcp/8080': o, 'lan -> wan tcp/80': o, 'lan -> wan udp/53': o })
/** The intent of the three wan -> gw probes, where a script treats them alike. */
export const wanToGw = (o: Outcome): Outcomes => ({ 'wan -> gw tcp/22': o, 'wan -> gw tcp/2000': o, 'wan -> gw udp/53': o })

export interface PolicyCase {
  readonly file: string
  readonly vars: Record<string, string>
  /** Literal text of the script's own network replaced by the lab's (from, to). */
  readonly literals?: readonly (readonly [string, string])[]
  readonly args?: string[]
  /** Probes of this script only (accounting counters, ...), after the common ones. */
  readonly extra?: (lab: Lab) => Promise<Outcomes>
  /** The script's intent, as the probes see it. */
  readonly intent: Outcomes
}

export interface PolicyTool {
  /** The corpus folder of the tool's scripts. */
  readonly corpus: string
  /** The nft table (family ip) the live commands leave. */
  readonly table: string
  /** After the live table is removed, before the translation is loaded. */
  readonly beforeLoad?: (t: TapTest, lab: Lab) => Promise<void>
  /** After the translation is loaded, before it is probed. */
  readonly afterLoad?: (t: TapTest, lab: Lab) => Promise<void>
}

/** The gateway's interfaces, given to the translating sandbox: names and addresses as in the lab. */
export const GATEWAY_INTERFACES = [
  { name: 'lan0', cidr: `${GW_LAN}/24` },
  { name: 'wan0', cidr: `${GW_WAN}/24` },
] as const

/** The script as used in the lab: its variables and literals set for the lab's gateway. */
export const labScript = (tool: PolicyTool, c: PolicyCase, dir: string): string => {
  let text = setVariables(readFileSync(join(tool.corpus, c.file), 'latin1'), c.vars)
  for (const [from, to] of c.literals ?? []) text = text.replaceAll(from, to)
  const path = join(dir, basename(c.file))
  writeFileSync(path, text, 'latin1')
  return path
}

/** One tap test per case: intent live, then the same outcomes from the translation loaded with nft -f. */
export const policyTests = (tool: PolicyTool, cases: readonly PolicyCase[]): void => {
  const tmp = mkdtempSync(join(tmpdir(), 'lfw-policy-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

  for (const c of cases)
    t.test(c.file, async (t) => {
      const path = labScript(tool, c, tmp)
      const tr = await translateScript(path, { args: c.args ?? [], interfaces: [...GATEWAY_INTERFACES] })
      if ('failure' in tr) return t.fail(`translate: no translation: ${JSON.stringify(tr)}`)
      const probeAll = async (lab: Lab): Promise<Outcomes> => ({ ...(await probe(lab)), ...(c.extra ? await c.extra(lab) : {}) })
      await withLab(async (lab) => {
        const servers = [
          await lab.serve('wan', { tcp: [80, 8080], udp: [53] }),
          await lab.serve('gw', { tcp: [22, 2000], udp: [53] }),
          await lab.serve('lan', { tcp: [2222] }),
        ]
        try {
          const live = await runScript(lab.ns.gw, path, { args: c.args ?? [] })
          t.ok(live.started, live.stderr)
          t.ok(live.calls.length > 0 && live.calls.every((call) => call.status === 0), 'every legacy command of the live run succeeded', {
            failed: live.calls.filter((call) => call.status !== 0),
          })
          const liveOutcomes = await probeAll(lab)
          t.same(liveOutcomes, c.intent, 'live: the script does what it means to')

          // The live rules out, the translation in (plain nft -f), connections forgotten.
          t.equal(lab.exec('gw', ['nft', 'delete', 'table', 'ip', tool.table]).status, 0)
          lab.exec('gw', ['conntrack', '-F'])
          await tool.beforeLoad?.(t, lab)
          const load = lab.exec('gw', ['nft', '-f', '-'], tr.file)
          t.equal(load.status, 0, `the translation loads: ${load.stderr}`)
          await tool.afterLoad?.(t, lab)
          const translated = await probeAll(lab)
          t.same(translated, liveOutcomes, 'translated and loaded: the same outcome for every probe')
        } finally {
          for (const s of servers) s.stop()
        }
      })
    })
}
