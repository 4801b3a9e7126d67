// Every corpus ipchains script with active commands (corpus MANIFEST,
// "Active fw commands" > 0) runs unchanged through bin/ipchains, each in a
// fresh network namespace, inside the sandboxed script runner. Legacy error
// messages and statuses are fine (the corpus keeps authentic bugs); a crash
// is not: a stack trace or "at file:line" on stderr, or a tool or the
// script ended by a signal.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { deleteNetns, inNetns, newNetns, requireRootAndNft } from './helpers/netns.ts'
import { type ScriptRun, runScriptText } from '../src/runtime/sandbox.ts'

const CORPUS = '/work/shared/corpus'
const DIR = `${CORPUS}/ipchains`
/** Scripts run at the same time (each in its own namespace). */
const PARALLEL = 4

/** Files of ipchains/ the MANIFEST table lists with active commands. */
const activeScripts = (): string[] => {
  const manifest = readFileSync(`${CORPUS}/MANIFEST.md`, 'utf8')
  const rows = [...manifest.matchAll(/^\| *\d+ *\| *`ipchains\/([^`/]+)` *\| *\d+ *\| *(\d+) *\|/gm)]
  return rows.filter((m) => Number(m[2]) > 0).map((m) => m[1] as string)
}

/** Interface names a script mentions; they become links in its namespace. */
const INTERFACE = /\b(?:eth|ppp|ippp|isdn|wlan|tr|cipcb|tun|tap|sl|plip|vpn|dsl|br)\d{1,2}\b/g

const interfacesOf = (text: string): string[] => [...new Set(text.match(INTERFACE) ?? [])].sort()

/** Each named interface as one end of a veth pair (the kernel here has no dummy links), up, with an address. */
const createInterfaces = (ns: string, names: readonly string[]): void => {
  names.forEach((name, i) => {
    const steps = [
      ['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', `lfwpeer${i}`],
      ['ip', 'addr', 'add', `10.${64 + i}.0.1/24`, 'dev', name],
      ['ip', 'link', 'set', name, 'up'],
      ['ip', 'link', 'set', `lfwpeer${i}`, 'up'],
    ]
    for (const argv of steps) {
      const r = inNetns(ns, argv)
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
    }
  })
}

/** start/stop init scripts get "start". */
const argsOf = (text: string): string[] => (/case\s+"?\$\{?1\}?"?\s+in/.test(text) && /^\s*['"]?start['"]?\s*[|)]/m.test(text) ? ['start'] : [])

/**
 * Files some scripts read or run from the host, shown at their paths inside
 * the sandbox: the companion corpus file the MANIFEST names for each.
 */
const COMPANIONS: Record<string, Record<string, string>> = {
  'bastille-ipchains.sh': { '/etc/Bastille/bastille-firewall.cfg': `${DIR}/bastille-firewall.cfg` },
  'firewall-howto-gfcc-initscript.sh': { '/etc/gfcc/rules/firewall.rule.sh': `${DIR}/firewall-howto-gfcc-generated-rules.sh` },
  'ipmasq-howto-2005-firewall-ipchains-initscript.sh': { '/etc/rc.d/rc.firewall-ipchains': `${DIR}/ipmasq-howto-2005-rc.firewall-ipchains.sh` },
}

// What a Node crash leaves on stderr: stack frames, internal module
// frames, an uncaught error's name line; or a fatal signal's message.
const STACK = [/^\s+at .*:\d+(?::\d+)?\)?$/m, /node:internal\//]
const TOOL_CRASH = [...STACK, /^\w*Error(?: \[\w+\])?: /m, /\bUncaught\b/, /Segmentation fault|Aborted|core dumped/]

const crashes = (run: ScriptRun): string[] => {
  const found: string[] = []
  if (!run.started) found.push(`the sandbox did not start: ${run.stderr}`)
  if (run.timedOut) found.push('timed out')
  if (run.signal) found.push(`script ended by ${run.signal}`)
  if (run.status !== null && run.status >= 128) found.push(`script exit status ${run.status} (signal)`)
  for (const c of run.calls) if (c.status >= 128) found.push(`${c.argv.join(' ')}: exit status ${c.status} (signal)`)
  // The tools' own stderr (kept even where the script sent it to /dev/null),
  // then the script's, where other programs may print "Error: ..." legitimately.
  for (const re of TOOL_CRASH) if (re.test(run.toolStderr)) found.push(`tool stderr matches ${re}`)
  for (const re of STACK) if (re.test(run.stderr)) found.push(`script stderr matches ${re}`)
  return found
}

/** Scripts that never reach an ipchains command here, and why. */
const NO_CALLS: Record<string, string> = {
  'redhat-initscripts-6.86-ifup.sh': 'stops at "Usage: ifup <device name>" without /etc/sysconfig/network-scripts',
}

const parses = (path: string): boolean => spawnSync('bash', ['-n', path]).status === 0

const scripts = activeScripts()
const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.test('the crash check sees a stack trace and a fatal signal', async (t) => {
    const ns = newNetns('corpus')
    try {
      const thrown = await runScriptText(ns, `node -e 'throw new Error("boom")'\n`, 'throw.sh')
      t.not(crashes(thrown).length, 0, 'an uncaught exception', { stderr: thrown.stderr })
      const killed = await runScriptText(ns, `ipchains -L >/dev/null\nbash -c 'kill -SEGV $$'\n`, 'segv.sh')
      t.not(crashes(killed).length, 0, 'a SIGSEGV', { status: killed.status })
      const legacy = await runScriptText(ns, 'ipchains -A input -j nosuch\nipchains -Q\n', 'legacy.sh')
      t.same(crashes(legacy), [], 'legacy error messages are not crashes', { stderr: legacy.toolStderr })
      t.same(legacy.calls.map((c) => c.status), [1, 2], 'the legacy exit statuses were recorded')
    } finally {
      deleteNetns(ns)
    }
  })

  t.test('the MANIFEST lists the corpus ipchains scripts', async (t) => {
    t.ok(scripts.length >= 40, `${scripts.length} scripts with active commands`)
    const files = new Set(readdirSync(DIR))
    t.same(scripts.filter((s) => !files.has(s)), [], 'every listed script exists')
  })

  // Runs the scripts PARALLEL at a time; each test awaits its own result.
  const results = new Map<string, Promise<{ run: ScriptRun; ifaces: string[]; args: string[] }>>()
  let running = 0
  const queue: (() => void)[] = []
  const slot = async (): Promise<void> => {
    if (running < PARALLEL) {
      running++
      return
    }
    await new Promise<void>((resolve) => queue.push(resolve))
  }
  const release = (): void => {
    const next = queue.shift()
    if (next) next()
    else running--
  }
  const start = (file: string) => {
    const text = readFileSync(`${DIR}/${file}`, 'latin1')
    const ifaces = interfacesOf(text)
    const args = argsOf(text)
    return (async () => {
      await slot()
      const ns = newNetns('corpus')
      try {
        createInterfaces(ns, ifaces)
        const run = await runScriptText(ns, text, file, { args, timeoutMs: 150_000, files: COMPANIONS[file] ?? {} })
        return { run, ifaces, args }
      } finally {
        deleteNetns(ns)
        release()
      }
    })()
  }
  for (const file of scripts) {
    const result = start(file)
    result.catch(() => undefined) // reported by the file's own test
    results.set(file, result)
  }

  for (const file of scripts)
    t.test(file, async (t) => {
      const { run, ifaces, args } = await (results.get(file) as Promise<{ run: ScriptRun; ifaces: string[]; args: string[] }>)
      if (parses(`${DIR}/${file}`) && !NO_CALLS[file]) t.ok(run.calls.length > 0, `it ran ipchains (${run.calls.length} commands)`)
      t.same(crashes(run), [], 'no crash', {
        args,
        interfaces: ifaces,
        status: run.status,
        calls: run.calls.length,
        failedCalls: run.calls.filter((c) => c.status !== 0).map((c) => `${c.status}: ${c.argv.join(' ')}`),
        toolStderr: run.toolStderr,
      })
    })
}
