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
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { withoutTapLoader } from '../runtime/netns.ts'
import { projectPath } from '../runtime/project.ts'
import { STUBBED_TOOLS, TOOL_DIRS, prepareServeDir, shellWord } from './serve.ts'
import { LEGACY_COMMANDS } from '../tools/registry.ts'

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

const namespaceArgv = (place: Place): string[] => {
  if (typeof place === 'string') return ['ip', 'netns', 'exec', place]
  const unprivileged = process.getuid?.() !== 0
  return ['unshare', '--net', ...(unprivileged ? ['--user', '--map-root-user'] : [])]
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

// Inside the namespace: make everything but our directory and the network
// namespace's sysctls read-only (remount,bind changes only this mount
// namespace's view, never the file system), then run the script.
const SETUP = `set -u
D=$1; shift
mount --bind "$D" "$D" || exit 97
# The wrappers and stubs also exist on disk where the old tools lived
# (so \`[ -x /sbin/ipchains ]\` holds and /bin/sh scripts find them), and
# companion files appear at their paths: read-only overlays.
for d in $(for x in ${TOOL_DIRS.join(' ')}; do readlink -f "$x"; done | sort -u); do
  mount -t overlay lfw-tools -o "lowerdir=$D/bin:$d" "$d" || exit 96
done
for top in "$D"/files/*; do
  [ -d "$top" ] || continue
  mount -t overlay lfw-files -o "lowerdir=$top:/\${top##*/}" "/\${top##*/}" || exit 96
done
while read -r _ _ _ _ m _; do
  m=$(printf '%b' "\${m//\\\\/\\\\0}")
  [ "$m" = "$D" ] && continue
  mount -o remount,bind,ro "$m" 2>/dev/null
done < <(cat /proc/self/mountinfo)
mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net || exit 98
ip link set lo up 2>/dev/null
# Interfaces the script expects, each one end of a veth pair.
i=0
while read -r name cidr; do
  if ! ip link show "$name" >/dev/null 2>&1; then
    ip link add "$name" type veth peer name "lfwpeer$i" && ip link set "$name" up && ip link set "lfwpeer$i" up || exit 95
    i=$((i + 1))
  fi
  [ -z "$cidr" ] || ip addr add "$cidr" dev "$name" || exit 95
done < <(cat "$D/interfaces" 2>/dev/null)
[ -w / ] && exit 99
cd "$D/work" || exit 97
: >"$D/started"
export BASH_ENV="$D/env.bash" PATH="$D/bin:$PATH" TMPDIR="$D/work" HOME="$D/work"
# legacy commands served by one resident process (ScriptOptions.serve)
srv=
if [ -n "\${LFW_SERVER:-}" ]; then $LFW_SERVER "$D" </dev/null & srv=$!; fi
bash "$D/script" "$@" </dev/null
rc=$?
if [ -n "$srv" ]; then printf 'end\\0%s\\0' "$rc" >"$D/req"; wait "$srv"; fi
# The firewall the script left behind, read before the namespace goes away.
[ -n "\${LFW_CAPTURE:-}" ] && nft -j list ruleset >"$D/ruleset.json"
exit $rc
`

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

/**
 * Runs `scriptText` (the script's bytes as a latin1 string) with bash in
 * network namespace `place`, sandboxed as described above.
 */
export const runScriptText = (place: Place, scriptText: string, name: string, options: ScriptOptions = {}): Promise<ScriptRun> => {
  const dir = mkdtempSync(join(tmpdir(), `lfw-script-${basename(name).replace(/[^A-Za-z0-9_.-]/g, '_')}-`))
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
  writeFileSync(join(dir, 'setup.sh'), SETUP)
  writeFileSync(join(dir, 'script'), scriptText, 'latin1')
  for (const [path, source] of Object.entries(options.files ?? {})) {
    if (!/^\/[^/]+\/./.test(path)) throw new Error(`companion file ${path}: need an absolute path below a top-level directory`)
    const target = join(dir, 'files', path)
    mkdirSync(dirname(target), { recursive: true })
    copyFileSync(source, target)
    chmodSync(target, 0o755)
  }
  const argv = [
    ...namespaceArgv(place),
    ...withoutTapLoader([
      'env',
      `LFW_DIR=${dir}`,
      ...(options.capture ? ['LFW_CAPTURE=1'] : []),
      ...(options.serve ? [`LFW_SERVER=${process.execPath} ${join(BIN, 'legacyfw')} serve`] : []),
      'unshare',
      '--mount',
      '--uts',
      '--pid',
      '--fork',
      '--kill-child',
      '--mount-proc',
      '--propagation',
      'private',
      'bash',
      join(dir, 'setup.sh'),
      dir,
      ...(options.args ?? []),
    ]),
  ]
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    // unshare --fork: killing its child (PID 1 of the script's PID
    // namespace) ends everything the script started.
    const timer = setTimeout(() => {
      timedOut = true
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
      const rulesetFile = join(dir, 'ruleset.json')
      const ruleset: unknown = existsSync(rulesetFile) ? JSON.parse(readFileSync(rulesetFile, 'utf8')) : undefined
      const resultFile = join(dir, 'result.json')
      const result: unknown = existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : undefined
      rmSync(dir, { recursive: true, force: true })
      resolve({
        stdout,
        stderr,
        status,
        signal,
        timedOut,
        started,
        calls,
        toolStderr,
        stubs,
        ...(ruleset === undefined ? {} : { ruleset }),
        ...(result === undefined ? {} : { result }),
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
  const text = readFileSync(path, 'latin1')
  const script = options.vars ? setVariables(text, options.vars) : text
  return runScriptText(place, script, path, options)
}
