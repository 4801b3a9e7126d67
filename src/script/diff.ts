// A line diff for `legacyfw translate --check`: the longest common
// subsequence of lines, unchanged lines shown only around the changes.
import chalk from 'chalk'

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: string }

const diffOps = (a: readonly string[], b: readonly string[]): Op[] => {
  // lcs[i][j]: length of the LCS of a[i..] and b[j..]
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1))
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      (lcs[i] as Uint32Array)[j] =
        a[i] === b[j]
          ? ((lcs[i + 1] as Uint32Array)[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as Uint32Array)[j] as number, (lcs[i] as Uint32Array)[j + 1] as number)
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i++] as string })
      j++
    } else if (j < b.length && (i === a.length || ((lcs[i] as Uint32Array)[j + 1] as number) >= ((lcs[i + 1] as Uint32Array)[j] as number)))
      ops.push({ kind: '+', line: b[j++] as string })
    else ops.push({ kind: '-', line: a[i++] as string })
  }
  return ops
}

/** `expected` against `actual`: "- " lines only expected (red), "+ " lines only actual (green), 2 lines of context. */
export const lineDiff = (expected: string, actual: string, context = 2): string => {
  const ops = diffOps(expected.split('\n'), actual.split('\n'))
  const near = (k: number): boolean => ops.slice(Math.max(0, k - context), k + context + 1).some((o) => o.kind !== ' ')
  const out: string[] = []
  let skipped = false
  ops.forEach((op, k) => {
    if (op.kind === ' ' && !near(k)) {
      if (!skipped) out.push(chalk.dim('  ...'))
      skipped = true
      return
    }
    skipped = false
    if (op.kind === '-') out.push(chalk.red(`- ${op.line}`))
    else if (op.kind === '+') out.push(chalk.green(`+ ${op.line}`))
    else out.push(`  ${op.line}`)
  })
  return `${out.join('\n')}\n`
}
