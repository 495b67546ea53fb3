/** Progress lines on stderr (stdout of a bench module is its JSON result); MAB_BENCH_QUIET=1 silences them. */
export function say(line: string): void {
  if (process.env.MAB_BENCH_QUIET === "1") return;
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}
