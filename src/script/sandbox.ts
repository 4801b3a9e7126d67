// Runs a legacy shell script unchanged inside a network namespace, with
// bin/ipchains standing in for the old tool and nothing on the host within
// its reach:
//
// - `ipchains`, `/sbin/ipchains`, `/usr/sbin/ipchains`, `$IPCHAINS`... run
//   bin/ipchains: bash functions (names with slashes are allowed) defined
//   through BASH_ENV, plus a PATH shim directory for programs that exec by
//   name. The script always runs under bash, whatever its #! line says.
// - Kernel-global tools (modprobe, insmod, rmmod, depmod, lsmod) are stubs
//   that record their arguments and load nothing.
// - The same wrappers and stubs are overlaid (read-only) onto /sbin,
//   /usr/sbin, /bin, ... so `[ -x /sbin/ipchains ]` holds and /bin/sh
//   children find them too; files a script expects (a config it sources,
//   a companion script it runs) can be overlaid the same way.
// - It runs in its own mount, UTS and PID namespaces (unshare) in which
//   every mount is read-only except a temporary working directory and
//   /proc/sys/net (whose files belong to the network namespace), so it
//   cannot change files, host name, processes or global sysctls of the host.
//
// `setVariables` makes the "only its variables set for the lab" copy of a
// script: assignment lines of the named variables get new values, every
// other line stays byte for byte.
import { spawn } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { withoutTapLoader } from '../runtime/netns.ts'
import { projectPath } from '../runtime/project.ts'
import { makeRunDir } from '../runtime/rundir.ts'
import { readInputFile } from '../runtime/input-file.ts'
import { TOOL_DIRS, prepareServeDir, scriptThenEnd, shellWord } from './serve.ts'
import { LEGACY_COMMANDS, STUBBED_TOOLS } from '../tools/registry.ts'

const BIN = projectPath('bin')

export interface ToolCall {
  readonly argv: string[]
  readonly status: number
}

export interface ScriptRun {
  readonly stdout: string
  readonly stderr: string
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
  readonly timedOut: boolean
  /** The sandbox was set up and the script started. */
  readonly started: boolean
  /** Every legacy tool invocation (argv[0] as the script spelled it), with its exit status. */
  readonly calls: ToolCall[]
  /** What the legacy tools wrote on stderr (even where the script hid it). */
  readonly toolStderr: string
  /** Stubbed kernel-global tool invocations (argv[0] as the script spelled it). */
  readonly stubs: string[][]
  /** `nft -j list ruleset` after the script, when asked for (ScriptOptions.capture). */
  readonly ruleset?: unknown
  /** What the resident server wrote (ScriptOptions.serve). */
  readonly result?: unknown
  /** /proc/sys/net before and after a served script (`grep -r '' /proc/sys/net`). */
  readonly sysctl?: { readonly before: string; readonly after: string }
}

/**
 * Where the script runs: an existing named network namespace, or a fresh
 * one that ends with the script (through a user namespace when not root).
 */
export type Place = string | { readonly fresh: true }

export interface ScriptOptions {
  readonly args?: readonly string[]
  readonly timeoutMs?: number
  /** Files the script expects on the host (absolute path -> host file to show there, executable). */
  readonly files?: Readonly<Record<string, string>>
  /** Read the final ruleset of the script's network namespace into ScriptRun.ruleset. */
  readonly capture?: boolean
  /**
   * Serve these legacy commands from one resident `legacyfw serve` process
   * inside the sandbox (src/script/serve.ts) instead of running bin/ per
   * call; what it leaves in DIR/result.json becomes ScriptRun.result.
   */
  readonly serve?: { readonly commands: readonly string[] }
  /** Interfaces to create before the script runs (veth ends, up), with an address each ('' for none). */
  readonly interfaces?: readonly { readonly name: string; readonly cidr: string }[]
}

// ---------------------------------------------------------------------------
// Variables

/**
 * The script with each named variable's assignment lines (`NAME=...`,
 * optionally indented or exported, with backslash continuation lines) set to
 * the given value. Continuation lines become empty so line numbers stay.
 * Throws when a variable is never assigned.
 */
export const setVariables = (text: string, vars: Readonly<Record<string, string>>): string => {
  const lines = text.split('\n')
  const found = new Set<string>()
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)=/.exec(lines[i] as string)
    if (!m || !Object.hasOwn(vars, m[2] as string)) continue
    const name = m[2] as string
    found.add(name)
    let end = i
    while ((lines[end] as string).endsWith('\\') && end + 1 < lines.length) end++
    lines[i] = `${m[1]}${name}=${shellWord(vars[name] as string)}`
    for (let j = i + 1; j <= end; j++) lines[j] = ''
    i = end
  }
  const missing = Object.keys(vars).filter((v) => !found.has(v))
  if (missing.length) throw new Error(`no assignment of ${missing.join(', ')} in the script`)
  return lines.join('\n')
}

// ---------------------------------------------------------------------------
// The sandbox

const wrapperScript = (tool: string): string => `#!/bin/bash
# ${tool} -> ${join(BIN, tool)}, recorded with its exit status and stderr.
err=$(mktemp "$LFW_DIR/err.XXXXXX")
# The program name the script used (as \`legacyfw run\` gives it).
LEGACYFW_ARGV0="\${LFW_AS:-${tool}}" ${shellWord(process.execPath)} ${shellWord(join(BIN, tool))} "$@" 2>"$err"
rc=$?
cat "$err" >&2
cat "$err" >>"$LFW_DIR/tool-stderr"
rm -f "$err"
{ printf '%s %q' "$rc" "\${LFW_AS:-${tool}}"; [ $# -gt 0 ] && printf ' %q' "$@"; printf '\\n'; } >>"$LFW_DIR/calls"
exit $rc
`

const stubScript = (tool: string): string => `#!/bin/bash
# ${tool}: recorded, not run (it would act on the host kernel).
{ printf '%q' "\${LFW_AS:-${tool}}"; [ $# -gt 0 ] && printf ' %q' "$@"; printf '\\n'; } >>"$LFW_DIR/stubs"
${tool === 'lsmod' ? `echo 'Module                  Size  Used by'` : ''}
exit 0
`

// Both kinds of run: the wrappers and stubs also exist on disk where the
// old tools lived (so `[ -x /sbin/ipchains ]` holds and /bin/sh scripts
// find them), companion files appear at their paths, and every mount but
// our directory (bound onto itself first) and those matching \`keep\` becomes read-only in this
// mount namespace (remount,bind changes only this namespace's view, never
// the file system).
const lockMounts = (keep: string): string => `for d in $(for x in ${TOOL_DIRS.join(' ')}; do readlink -f "$x"; done | sort -u); do
  mount -t overlay lfw-tools -o "lowerdir=$D/bin:$d" "$d" || exit 96
done
for top in "$D"/files/*; do
  [ -d "$top" ] || continue
  mount -t overlay lfw-files -o "lowerdir=$top:/\${top##*/}" "/\${top##*/}" || exit 96
done
while read -r _ _ _ _ m _; do
  m=$(printf '%b' "\${m//\\\\/\\\\0}")
  case $m in "$D"${keep}) continue ;; esac
  mount -o remount,bind,ro "$m" 2>/dev/null
done < <(cat /proc/self/mountinfo)
`

// The script's network, its interfaces, the server, the script and what it
// left behind.
const runPart = (dir: string, serving: boolean): string => `ip link set lo up 2>/dev/null
# Interfaces the script expects, each one end of a veth pair.
i=0
while read -r name cidr; do
  if ! ip link show "$name" >/dev/null 2>&1; then
    ip link add name "$name" type veth peer name "lfwpeer$i" && ip link set "$name" up && ip link set "lfwpeer$i" up || exit 95
    i=$((i + 1))
  fi
  [ -z "$cidr" ] || ip addr add "$cidr" dev "$name" || exit 95
done < <(cat "$D/interfaces" 2>/dev/null)
[ -w / ] && exit 99
cd "$D/work" || exit 97
# The script's stdout and stderr as pipes: Node hands the sandbox sockets,
# which a script cannot open as /dev/stdout or /dev/stderr (ENXIO).
exec > >(exec cat) 2> >(exec cat >&2)
: >"$D/started"
export BASH_ENV="$D/env.bash" PATH="$D/bin:$PATH" TMPDIR="$D/work" HOME="$D/work"
# The veth peers above are the sandbox's, not the script's: the era userland hides them.
export LFW_HIDDEN_LINKS=lfwpeer
${
  serving
    ? `# legacy commands served by one resident process (ScriptOptions.serve); the
# request fifo is held open from here on (see openRequests)
exec 250<>"$D/req"
$LFW_SERVER "$D" </dev/null &
srv=$!
export LFW_SERVER_PID=$srv
# The kernel settings before and after the script (translate keeps those it changed).
grep -r '' /proc/sys/net >"$D/sysctl.before" 2>/dev/null
${scriptThenEnd(dir, 'bash "$D/script" "$@" </dev/null 250<&-')}wait "$srv"
grep -r '' /proc/sys/net >"$D/sysctl.after" 2>/dev/null`
    : // A live run's tools run per call: nothing to wait for (a tool may start a daemon, the -V watcher).
      'bash "$D/script" "$@" </dev/null\nrc=$?'
}
# The firewall the script left behind, read before the namespace goes away.
[ -n "\${LFW_CAPTURE:-}" ] && nft -j list ruleset >"$D/ruleset.json"
exit $rc
`

// A live run in a named network namespace (tests, the demo): its own mount,
// UTS and PID namespaces, the namespace's sysctls writable.
const liveSetup = (dir: string, serving: boolean): string => `set -u
D=$1; shift
mount --bind "$D" "$D" || exit 97
${lockMounts('')}mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net || exit 98
${runPart(dir, serving)}`

// A sealed run (translate): the mounts are made read-only here, then the
// script runs in a user namespace of its own, where root is an unprivileged
// id (nobody, or the invoking user) on the host and the read-only mounts
// are locked, with fresh network, mount, UTS, IPC and PID namespaces. The
// project and node are reached through our directory (they may live where
// that id cannot go). Each stage dies with its parent (--pdeathsig), so a
// killed legacyfw leaves nothing running.
const sealOuter = (unprivilegedId: number | undefined): string => `set -u
D=$1; shift
mount --bind "$D" "$D" || exit 97
mkdir -p "$D/project" && mount --bind "$LFW_PROJECT" "$D/project" || exit 97
: >"$D/node" && mount --bind "$LFW_NODE" "$D/node" || exit 97
${lockMounts('|/proc|/proc/*')}${unprivilegedId === undefined ? '' : `setpriv --reuid=${unprivilegedId} --regid=${unprivilegedId} --clear-groups `}setpriv --pdeathsig KILL --no-new-privs \
  unshare --user --map-root-user --net --mount --uts --ipc --pid --fork --kill-child --mount-proc --propagation private \
  bash "$D/setup.sh" "$D" "$@"
`

// Inside the sealed namespaces: throwaway writable /run, /tmp, /var/tmp and
// /dev/shm (the working directory keeps ours reachable while a tmpfs covers
// its parent), then the run.
const sealInner = (dir: string): string => `set -u
D=$1; shift
cd "$D" || exit 97
for t in /run /tmp /var/tmp /dev/shm; do
  [ -d "$t" ] && { mount -t tmpfs -o mode=1777 lfw-tmp "$t" || exit 94; }
done
mkdir -p "$D" /run/lock && mount --no-canonicalize --rbind . "$D" || exit 94
${runPart(dir, true)}`

const envBash = (dir: string): string => {
  const lines = ['# Legacy tool names -> the sandbox wrappers (bash looks up functions before PATH).']
  for (const tool of [...LEGACY_COMMANDS.filter((t) => existsSync(join(BIN, t))), ...STUBBED_TOOLS])
    for (const name of [tool, ...TOOL_DIRS.map((d) => `${d}/${tool}`)])
      lines.push(`${name}() { LFW_AS=${name} ${shellWord(join(dir, 'bin', tool))} "$@"; }`)
  return `${lines.join('\n')}\n`
}

const parseQuoted = (line: string): string[] => {
  // printf %q output: decode with bash itself would be exact; these are
  // test diagnostics, so a plain split on unescaped spaces is enough.
  const words: string[] = []
  let cur = ''
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string
    if (c === '\\' && i + 1 < line.length) cur += line[++i]
    else if (c === ' ') {
      words.push(cur)
      cur = ''
    } else cur += c
  }
  words.push(cur)
  return words
}

const readLines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [])

/** What a script prints is kept up to this many characters per stream: a script that prints forever uses no more memory. */
const OUTPUT_LIMIT = 1 << 20

class CappedText {
  private kept = ''
  private dropped = 0
  add(chunk: string): void {
    const room = OUTPUT_LIMIT - this.kept.length
    this.kept += chunk.slice(0, Math.max(0, room))
    this.dropped += Math.max(0, chunk.length - room)
  }
  text(): string {
    return this.dropped === 0 ? this.kept : `${this.kept}\n[legacyfw: ${this.dropped} more characters of output not kept]\n`
  }
}

/** The id the sealed sandbox's root has on the host when legacyfw runs as root. */
const NOBODY = 65534

const chownTree = (path: string, id: number): void => {
  chownSync(path, id, id)
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), id)
}

/** The process tree that runs the script: sealed for a fresh namespace, live in a named one. */
const sandboxArgv = (place: Place, dir: string, options: ScriptOptions): string[] => {
  const env = ['env', `LFW_DIR=${dir}`, ...(options.capture ? ['LFW_CAPTURE=1'] : [])]
  const args = [dir, ...(options.args ?? [])]
  if (typeof place === 'string') {
    const server = options.serve ? [`LFW_SERVER=${process.execPath} ${join(BIN, 'legacyfw')} serve`] : []
    writeFileSync(join(dir, 'setup.sh'), liveSetup(dir, options.serve !== undefined))
    const unshare = ['unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private']
    return ['ip', 'netns', 'exec', place, ...withoutTapLoader([...env, ...server, ...unshare, 'bash', join(dir, 'setup.sh'), ...args])]
  }
  const root = process.getuid?.() === 0
  writeFileSync(join(dir, 'outer.sh'), sealOuter(root ? NOBODY : undefined))
  writeFileSync(join(dir, 'setup.sh'), sealInner(dir))
  if (root) chownTree(dir, NOBODY)
  const server = [
    `LFW_SERVER=${join(dir, 'node')} ${join(dir, 'project', 'bin', 'legacyfw')} serve`,
    `LFW_PROJECT=${projectPath()}`,
    `LFW_NODE=${process.execPath}`,
  ]
  const outer = ['setpriv', '--pdeathsig', 'KILL', 'unshare', '--mount', '--propagation', 'private', ...(root ? [] : ['--user', '--map-root-user'])]
  return withoutTapLoader([...env, ...server, ...outer, 'bash', join(dir, 'outer.sh'), ...args])
}

/** How long the server gets to write what the script set up so far, once the time is up. */
const LAST_WORDS_MS = 3000

/** Tells the server the script is over (it then writes its result), without blocking. */
const sendEnd = (dir: string, status: number): void => {
  try {
    const fd = openSync(join(dir, 'req'), constants.O_RDWR | constants.O_NONBLOCK)
    writeSync(fd, `end\0${status}\0${0}\0`)
    closeSync(fd)
  } catch {
    // no server
  }
}

const waitForFile = async (path: string, ms: number): Promise<void> => {
  for (const until = Date.now() + ms; !existsSync(path) && Date.now() < until;) await new Promise((r) => setTimeout(r, 50))
}

const readJson = (path: string): unknown => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown
  } catch {
    return undefined
  }
}

/**
 * Runs `scriptText` (the script's bytes as a latin1 string) with bash in
 * network namespace `place`, sandboxed as described above. A script still
 * running after `timeoutMs` is stopped; a served one first has its server
 * write what it set up so far.
 */
export const runScriptText = (place: Place, scriptText: string, name: string, options: ScriptOptions = {}): Promise<ScriptRun> => {
  const dir = makeRunDir('script')
  mkdirSync(join(dir, 'work'))
  if (options.serve) prepareServeDir(dir, options.serve.commands, true)
  else {
    mkdirSync(join(dir, 'bin'))
    for (const tool of LEGACY_COMMANDS.filter((t) => existsSync(join(BIN, t)))) writeFileSync(join(dir, 'bin', tool), wrapperScript(tool))
    for (const tool of STUBBED_TOOLS) writeFileSync(join(dir, 'bin', tool), stubScript(tool))
    for (const f of [...LEGACY_COMMANDS, ...STUBBED_TOOLS]) if (existsSync(join(dir, 'bin', f))) chmodSync(join(dir, 'bin', f), 0o755)
    writeFileSync(join(dir, 'env.bash'), envBash(dir))
  }
  writeFileSync(join(dir, 'interfaces'), (options.interfaces ?? []).map((i) => `${i.name} ${i.cidr}\n`).join(''))
  writeFileSync(join(dir, 'script'), scriptText, 'latin1')
  for (const [path, source] of Object.entries(options.files ?? {})) {
    const target = join(dir, 'files', path)
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, readInputFile(source))
    chmodSync(target, 0o755)
  }
  const argv = sandboxArgv(place, dir, options)
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    const stdout = new CappedText()
    const stderr = new CappedText()
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => stdout.add(d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => stderr.add(d))
    // Killing the sandbox's first process ends everything the script started.
    const timer = setTimeout(async () => {
      timedOut = true
      if (options.serve) {
        sendEnd(dir, 124)
        await waitForFile(join(dir, 'result.json'), LAST_WORDS_MS)
      }
      child.kill('SIGKILL')
    }, options.timeoutMs ?? 120_000)
    child.on('close', (status, signal) => {
      clearTimeout(timer)
      const calls = readLines(join(dir, 'calls')).map((l) => {
        const [rc, ...words] = parseQuoted(l)
        return { status: Number(rc), argv: words }
      })
      const stubs = readLines(join(dir, 'stubs')).map(parseQuoted)
      const started = existsSync(join(dir, 'started'))
      const toolStderr = existsSync(join(dir, 'tool-stderr')) ? readFileSync(join(dir, 'tool-stderr'), 'utf8') : ''
      const ruleset = readJson(join(dir, 'ruleset.json'))
      const result = readJson(join(dir, 'result.json'))
      const sysctl = ['before', 'after'].map((w) => join(dir, `sysctl.${w}`))
      const settings = sysctl.every(existsSync)
        ? { before: readFileSync(sysctl[0] as string, 'utf8'), after: readFileSync(sysctl[1] as string, 'utf8') }
        : undefined
      rmSync(dir, { recursive: true, force: true })
      resolve({
        stdout: stdout.text(),
        stderr: stderr.text(),
        status,
        signal,
        timedOut,
        started,
        calls,
        toolStderr,
        stubs,
        ...(ruleset === undefined ? {} : { ruleset }),
        ...(result === undefined ? {} : { result }),
        ...(settings === undefined ? {} : { sysctl: settings }),
      })
    })
  })
}

/** Runs a script file, optionally with some variables set (see setVariables). */
export const runScript = (
  place: Place,
  path: string,
  options: ScriptOptions & { vars?: Readonly<Record<string, string>> } = {},
): Promise<ScriptRun> => {
  const text = readInputFile(path).toString('latin1')
  const script = options.vars ? setVariables(text, options.vars) : text
  return runScriptText(place, script, path, options)
}
