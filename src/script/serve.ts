// One resident process serving every legacy command of a shell script.
//
// The script's shell finds the legacy commands as bash functions (defined
// through BASH_ENV; bash allows names like /sbin/ipchains), and a bash
// program of the same name stands in PATH for shells that exec them. A call
// costs no process at all: the function writes its request to the fifo
// DIR/req (one write, so calls from background jobs do not interleave),
// the server answers through the caller's own fifo DIR/f.<pid> (made once
// per shell process and held open) with "STATUS HAS_OUT HAS_ERR", and the caller prints
// the output files DIR/o.<pid> and DIR/e.<pid>. A request is NUL-separated:
//
//   call PID COMMAND AS FILE:LINE TTY ARGC ARG...      end STATUS LINGERING
//
// A caller whose server is gone (LFW_SERVER_PID ended) says so and exits
// 125 instead of waiting forever. LINGERING is 1 when some of the script's
// processes still ran when its main shell ended (they were waited for).
//
// Kernel-global tools (lsmod, reboot, ...) that are not served are
// functions that only append their call to DIR/stubs.
import { spawnSync } from 'node:child_process'
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { quote } from 'shell-quote'
import type { Request, Session } from './session.ts'
import { STUBBED_TOOLS } from '../tools/registry.ts'

/** Where the old tools lived: the absolute names scripts call them by. */
export const TOOL_DIRS = ['/sbin', '/usr/sbin', '/bin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']

const CALL = `__legacyfw_call() {
  # Options of the script (set -e, -u, -x) do not apply in here.
  local - __tty=0 __s __o __e __text
  set +eux
  local __cmd=$1 __as=$2
  shift 2
  # This shell's reply fifo, held open read-write: opening never blocks and
  # no reply is lost between calls.
  if [ "\${__legacyfw_pid:-}" != "$BASHPID" ]; then
    [ -p "$LFW_DIR/f.$BASHPID" ] || "$LFW_MKFIFO" -m 600 "$LFW_DIR/f.$BASHPID" || return 126
    exec {__legacyfw_fd}<>"$LFW_DIR/f.$BASHPID" || return 126
    __legacyfw_pid=$BASHPID
  fi
  [ -t 0 ] && __tty=1
  # Opened read-write: never blocks, even when the server is gone.
  printf '%s\\0' call "$BASHPID" "$__cmd" "$__as" "\${BASH_SOURCE[2]:-?}:\${BASH_LINENO[1]:-?}" "$__tty" "$#" "$@" 1<>"$LFW_DIR/req"
  # A server that was killed never answers: notice it and stop this shell.
  while ! read -r -t 1 -u "$__legacyfw_fd" __s __o __e; do
    kill -0 "$LFW_SERVER_PID" 2>/dev/null && continue
    printf '%s: the legacyfw process serving this script (pid %s) is gone\\n' "$__as" "$LFW_SERVER_PID" >&2
    exit 125
  done
  if [ "$__o" = 1 ]; then IFS= read -r -d '' __text <"$LFW_DIR/o.$BASHPID"; printf '%s' "$__text"; fi
  if [ "$__e" = 1 ]; then IFS= read -r -d '' __text <"$LFW_DIR/e.$BASHPID"; printf '%s' "$__text" >&2; fi
  return "\${__s:-126}"
}
# The script's own shell (the first to read this file) records where it
# exits and with what status in DIR/exit (the report names an early exit);
# subshells and other shells exit as before.
[ -n "\${LFW_MAIN_PID:-}" ] || export LFW_MAIN_PID=$$
exit() {
  local __s=$?
  local -
  set +eux
  if [ "$BASHPID" = "\${LFW_MAIN_PID:-}" ]; then
    printf '%s\\0%s\\0' "\${BASH_SOURCE[1]:-?}:\${BASH_LINENO[0]:-?}" "\${1:-$__s}" >"$LFW_DIR/exit" 2>/dev/null || :
  fi
  [ $# -gt 0 ] || set -- "$__s"
  builtin exit "$@"
}
__legacyfw_stub() {
  local - __w="\${BASH_SOURCE[2]:-?}:\${BASH_LINENO[1]:-?}"
  set +eux
  printf '%s\\0' "$__w" "$@" >>"$LFW_DIR/stubs"
  printf '\\n' >>"$LFW_DIR/stubs"
  [ "$1" = lsmod ] && echo 'Module                  Size  Used by'
  return 0
}
`

/** mkfifo by its path: scripts may set PATH to anything (PATH=/sbin). */
const mkfifoPath = (): string => {
  const found = spawnSync('sh', ['-c', 'command -v mkfifo'], { encoding: 'utf8' }).stdout.trim()
  if (!found.startsWith('/')) throw new Error('legacyfw: mkfifo not found')
  return found
}

const names = (tool: string): string[] => [tool, ...TOOL_DIRS.map((d) => `${d}/${tool}`)]

/** The BASH_ENV file: the call functions and every name of every legacy (and stubbed) tool. */
export const envBash = (commands: readonly string[], stubbed: readonly string[]): string => {
  const lines = ['# legacyfw: legacy commands served by one resident process (src/script/serve.ts).', `LFW_MKFIFO=${shellWord(mkfifoPath())}`, CALL]
  for (const c of commands) for (const n of names(c)) lines.push(`${n}() { __legacyfw_call ${c} ${n} "$@"; }`)
  for (const t of stubbed) for (const n of names(t)) lines.push(`${n}() { __legacyfw_stub ${t} "$@"; }`)
  return `${lines.join('\n')}\n`
}

/** The PATH stand-in for a tool: a bash program calling the function (for shells without BASH_ENV). */
export const shimScript = (tool: string, envFile: string): string => `#!/bin/bash
. ${shellWord(envFile)}
${tool} "$@"
`

/** The fd every process of the script inherits (a high one: scripts use the low ones). */
export const TREE_FD = 201

/** How long processes the script started in the background may outlive it (a daemon never ends). */
export const LINGER_SECONDS = 30

/**
 * Bash that runs `command` (the script) with every process it starts
 * holding a shared lock on DIR/tree through an inherited fd, then waits
 * (at most LINGER_SECONDS) until none does, so background commands are
 * served to the last; leaves the script's status in $rc and sends the end
 * message.
 */
export const scriptThenEnd = (dir: string, command: string): string => {
  const tree = shellWord(join(dir, 'tree'))
  return `exec ${TREE_FD}>>${tree} && flock -s ${TREE_FD}
unset LFW_MAIN_PID
${command}
rc=$?
exec ${TREE_FD}>&-
lingering=0
flock -n -x ${tree} true || { lingering=1; flock -w ${LINGER_SECONDS} -x ${tree} true; }
printf 'end\\0%s\\0%s\\0' "$rc" "$lingering" 1<>${shellWord(join(dir, 'req'))}
`
}

/** How the script ended: its status, and whether processes it started outlived its main shell. */
export interface ScriptEnd {
  readonly status: number
  readonly lingering: boolean
}

/** `text` as one bash word, for the bash text legacyfw writes (bare when it needs no quoting). */
export const shellWord = (text: string): string => quote([text])

/**
 * Makes DIR/req, DIR/env.bash and DIR/bin (the PATH stand-ins). `stub`:
 * the kernel-global tools are recorded instead of run (translate; `run`
 * lets them act, as at boot).
 */
export const prepareServeDir = (dir: string, commands: readonly string[], stub: boolean): void => {
  const made = spawnSync('mkfifo', ['-m', '600', join(dir, 'req')])
  if (made.status !== 0) throw new Error(`mkfifo: ${made.stderr}`)
  const stubbed = stub ? STUBBED_TOOLS.filter((t) => !commands.includes(t)) : []
  writeFileSync(join(dir, 'env.bash'), envBash(commands, stubbed))
  mkdirSync(join(dir, 'bin'), { recursive: true })
  for (const tool of [...commands, ...stubbed]) writeFileSync(join(dir, 'bin', tool), shimScript(tool, join(dir, 'env.bash')), { mode: 0o755 })
}

/**
 * Opens the request fifo (read-write, so it never sees end of file). It must
 * be open before the script starts: callers open it read-write too, and a
 * fifo that nobody holds open drops what was written into it.
 */
export const openRequests = (dir: string): number => openSync(join(dir, 'req'), 'r+')

/** Reads NUL-terminated fields from the request fifo. */
class Fields {
  private buffer = Buffer.alloc(0)
  constructor(private readonly fd: number) {}

  next(): string {
    for (;;) {
      const nul = this.buffer.indexOf(0)
      if (nul >= 0) {
        const field = this.buffer.toString('utf8', 0, nul)
        this.buffer = this.buffer.subarray(nul + 1)
        return field
      }
      const chunk = Buffer.alloc(65536)
      const n = readSync(this.fd, chunk)
      this.buffer = Buffer.concat([this.buffer, chunk.subarray(0, n)])
    }
  }
}

/** Opens the caller's fifo (it holds it open while it lives), or undefined if the caller is gone. */
const openReplyFifo = (path: string): number | undefined => {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENXIO' || (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

const outputFile = (dir: string, stream: 'o' | 'e', pid: number, text: string): 0 | 1 => {
  const path = join(dir, `${stream}.${pid}`)
  if (text === '') return 0
  writeFileSync(path, text)
  return 1
}

/**
 * Serves requests until the `end` message; returns how the script ended.
 * Blocks the thread between requests (nothing else runs meanwhile).
 */
export const serve = async (dir: string, session: Session, fd = openRequests(dir)): Promise<ScriptEnd> => {
  const fields = new Fields(fd)
  try {
    for (;;) {
      const kind = fields.next()
      if (kind === 'end') return { status: Number(fields.next()), lingering: fields.next() === '1' }
      if (kind !== 'call') throw new Error(`legacyfw serve: bad request ${JSON.stringify(kind)}`)
      const pid = Number(fields.next())
      const command = fields.next()
      const as = fields.next()
      const where = fields.next()
      const stdinIsTty = fields.next() === '1'
      const argc = Number(fields.next())
      const args = Array.from({ length: argc }, () => fields.next())
      const req: Request = { pid, command, as, where, stdinIsTty, args }
      const reply = await session.call(req)
      const o = outputFile(dir, 'o', pid, reply.stdout)
      const e = outputFile(dir, 'e', pid, reply.stderr)
      const out = openReplyFifo(join(dir, `f.${pid}`))
      if (out === undefined) continue // the caller is gone
      writeSync(out, `${reply.status} ${o} ${e}\n`)
      closeSync(out)
    }
  } finally {
    closeSync(fd)
  }
}

/** Where the script's own shell ran `exit`, and its argument (undefined: it ran to its end, or ended otherwise). */
export const readExit = (dir: string): { where: string; status: string } | undefined => {
  const path = join(dir, 'exit')
  if (!existsSync(path)) return undefined
  const [where = '?', status = ''] = readFileSync(path, 'utf8').split('\0')
  return { where, status }
}

/** The calls the stub functions recorded: where, and the argv. */
export const readStubs = (dir: string): { where: string; argv: string[] }[] => {
  const path = join(dir, 'stubs')
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\0\n')
    .filter((r) => r !== '')
    .map((r) => {
      const [where, ...argv] = r.split('\0')
      return { where: where ?? '?', argv }
    })
}

export const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true })
