// The counter columns of ipchains -L -v: the K/M/G rounding of
// print_firewall() at each threshold, the exact -x widths and the policy
// counters in the chain title. Pure goldens cannot show these (the table
// starts at 0), so formatListing is fed large values directly.
import t from 'tap'
import type { ListNames } from '../src/translate/common/listnames.ts'
import { formatListing } from '../src/translate/ipchains/list.ts'
import { type Chain, type State, EMPTY_RULE, INITIAL_STATE, normaliseRule } from '../src/translate/ipchains/model.ts'

const noNames: ListNames = { host: () => undefined, net: () => undefined, service: () => undefined, proto: () => undefined }

const TAIL = 'ACCEPT     all  ------ 0xFF 0x00  any                            anywhere             anywhere              n/a'

const stateWith = (counts: readonly [number, number][], policyCounts = { packets: 0, bytes: 0 }): { state: State; chains: Chain[] } => {
  const input: Chain = {
    name: 'input',
    policy: 'ACCEPT',
    policyCounts,
    entries: counts.map(([packets, bytes], i) => ({
      rule: normaliseRule({ ...EMPTY_RULE, label: 'ACCEPT' }),
      counter: `r${i + 1}`,
      counts: { packets, bytes },
    })),
  }
  const state = { ...INITIAL_STATE, chains: [input, ...INITIAL_STATE.chains.slice(1)] }
  return { state, chains: [input] }
}

/** The rule lines of `ipchains -L input -v [-x]`, without title and header. */
const ruleLines = (counts: readonly [number, number][], exact: boolean): string[] => {
  const { state, chains } = stateWith(counts)
  const text = formatListing(state, chains, { verbose: true, numeric: false, exact, lineNumbers: false }, noNames)
  return text.split('\n').slice(2, -1)
}

t.test('K/M/G rounding at every threshold (packets and bytes alike)', async (t) => {
  const values = [
    [0, '    0 '],
    [99999, '99999 '],
    [100000, ' 100K '],
    [100499, ' 100K '],
    [100500, ' 101K '],
    [9999499, '9999K '],
    [9999500, '  10M '],
    [9999499999, '9999M '],
    [9999500000, '  10G '],
    [123456789012345, '123457G '],
  ] as const
  const lines = ruleLines(
    values.map(([n]) => [n, n]),
    false,
  )
  t.same(
    lines,
    values.map(([, text]) => `${text}${text}${TAIL}`),
  )
})

t.test('packets and bytes keep their own columns', async (t) => {
  t.same(ruleLines([[12, 3456789]], false), [`   12 3457K ${TAIL}`])
})

t.test('-x prints exact values in 8 and 10 columns, wider values overflow', async (t) => {
  t.same(
    ruleLines(
      [
        [99999, 100000],
        [123456789, 12345678901],
      ],
      true,
    ),
    [`   99999     100000 ${TAIL}`, `123456789 12345678901 ${TAIL}`],
  )
})

t.test('the -v title shows the policy counters exactly, whatever -x says', async (t) => {
  const { state, chains } = stateWith([], { packets: 123456789, bytes: 98765432100 })
  for (const exact of [false, true])
    t.equal(
      formatListing(state, chains, { verbose: true, numeric: false, exact, lineNumbers: false }, noNames),
      'Chain input (policy ACCEPT: 123456789 packets, 98765432100 bytes):\n',
    )
})
