/**
 * A legacy tool finishing early: what it printed and its exit status. Thrown
 * by the pure parsers (help, version, usage errors) and turned into output
 * by the CLI runner.
 */
export class Exit extends Error {
  constructor(
    readonly status: number,
    readonly stderr = '',
    readonly stdout = '',
  ) {
    super(stderr || stdout)
  }
}
