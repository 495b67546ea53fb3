/** CLI output goes to the terminal directly: logs are for the running bridge, not for command results. */
export function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

export function complain(line: string): void {
  process.stderr.write(`${line}\n`);
}
