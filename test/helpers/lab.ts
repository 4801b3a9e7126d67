// The lab for tests: the runtime lab (src/runtime/lab.ts) plus parsing of
// counters listings (`ipchains -L -v -x -n`, `ipfwadm -l -e -x -n`) and the
// checks the lab tests of corpus scripts share.
import type { Test } from 'tap'
import { GW_WAN, type Lab, type Probe } from '../../src/runtime/lab.ts'
import type { ScriptRun } from '../../src/script/sandbox.ts'

export * from '../../src/runtime/lab.ts'

// ---------------------------------------------------------------------------
// Counters from `ipchains -L -v -x`

export interface ListedRule {
  readonly chain: string
  /** 1-based position in its chain. */
  readonly num: number
  readonly pkts: number
  readonly bytes: number
  readonly target: string
  readonly line: string
}

export interface Listing {
  readonly policies: Map<string, { policy: string; pkts: number; bytes: number }>
  readonly rules: ListedRule[]
}

/** Parses `ipchains -L -v -x -n` output. */
export const parseListing = (text: string): Listing => {
  const policies = new Map<string, { policy: string; pkts: number; bytes: number }>()
  const rules: ListedRule[] = []
  let chain = ''
  let num = 0
  for (const line of text.split('\n')) {
    const head = /^Chain (\S+) \((?:policy (\S+): (\d+) packets, (\d+) bytes|\d+ references?)\):/.exec(line)
    if (head) {
      chain = head[1] as string
      num = 0
      if (head[2]) policies.set(chain, { policy: head[2], pkts: Number(head[3]), bytes: Number(head[4]) })
      continue
    }
    const rule = /^\s*(\d+)\s+(\d+)\s+(\S+)/.exec(line)
    if (rule && chain) rules.push({ chain, num: ++num, pkts: Number(rule[1]), bytes: Number(rule[2]), target: rule[3] as string, line })
  }
  return { policies, rules }
}

/** Listed counters of the gateway. */
export const counters = (lab: Lab): Listing => {
  const r = lab.ipchains('-L', '-v', '-x', '-n')
  if (r.status !== 0) throw new Error(`ipchains -L -v -x -n: ${r.stderr}`)
  return parseListing(r.stdout)
}

export const rule = (l: Listing, chain: string, num: number): ListedRule => {
  const found = l.rules.find((r) => r.chain === chain && r.num === num)
  if (!found) throw new Error(`no rule ${chain} #${num} in the listing`)
  return found
}

/** A rule's line of a one-list counters listing (`ipfwadm -l -e -x`, `ipchains -L CHAIN -v -x`). */
export interface CounterRow {
  readonly pkts: number
  readonly bytes: number
  /** The line after the two counters, words joined by one space. */
  readonly rest: string
  readonly line: string
}

/** The rule lines of a one-list counters listing, after its two header lines. */
export const counterRows = (text: string): CounterRow[] =>
  text
    .split('\n')
    .slice(2)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [pkts, bytes, ...rest] = line.trim().split(/\s+/)
      return { pkts: Number(pkts), bytes: Number(bytes), rest: rest.join(' '), line }
    })

/** A row's packet and byte counts. */
export const packetsAndBytes = (row: CounterRow | undefined): [number, number] | undefined => row && [row.pkts, row.bytes]

// ---------------------------------------------------------------------------
// Traffic helpers

/** "peer=A:P local=B:Q" as written by labtool.py servers. */
export const seen = (text: string | undefined): { peer: string; port: number; local: string } => {
  const m = /^peer=([\d.]+):(\d+) local=(\S+)$/.exec(text ?? '')
  if (!m) return { peer: '', port: -1, local: '' }
  return { peer: m[1] as string, port: Number(m[2]), local: m[3] as string }
}

/** The masquerade source ports (and ICMP ids) of 2.0 and 2.2 alike. */
export const inMasqRange = (port: number): boolean => port >= 61000 && port <= 65095

/** A probe from the lan was answered, wan saw it from the gateway's address and a masquerade port: what wan saw. */
export const checkMasqueraded = (t: Test, p: Probe, what: string): ReturnType<typeof seen> => {
  const s = seen(p.text)
  t.equal(p.result, 'reply', `${what}: answered`)
  t.equal(s.peer, GW_WAN, `${what}: wan saw the gateway address as source`)
  t.ok(inMasqRange(s.port), `${what}: from a masquerade port (${s.port})`)
  return s
}

/** A corpus script run by runScript in the gateway: it started, was not killed, no tool crashed, every `tool` command succeeded. */
export const checkScriptRun = (t: Test, run: ScriptRun, file: string, tool: string): void => {
  t.ok(run.started, `${file}: the sandbox started`, { stderr: run.stderr })
  t.equal(run.signal, null, `${file}: not killed`)
  t.notMatch(run.stderr + run.toolStderr, /\n\s+at .*:\d+|Error: /, `${file}: no crash`)
  t.ok(run.calls.length > 0 && run.calls.every((c) => c.status === 0), `${file}: every ${tool} command succeeded`, {
    failed: run.calls.filter((c) => c.status !== 0),
    stderr: run.toolStderr,
  })
}

/** A temporary route in wan to one lan host through the gateway. */
export const withRouteBack = async <T>(lab: Lab, host: string, body: () => Promise<T>): Promise<T> => {
  const add = lab.exec('wan', ['ip', 'route', 'add', `${host}/32`, 'via', GW_WAN])
  if (add.status !== 0) throw new Error(add.stderr)
  try {
    return await body()
  } finally {
    lab.exec('wan', ['ip', 'route', 'del', `${host}/32`])
  }
}
