// Progress of long benchmarks on stderr. Nothing shows during the first
// second, so short runs stay quiet. On a terminal one line is rewritten in
// place, and in a log at most one line a second is written.

const QUIET_MS = 1000;

export class ProgressReporter {
  private readonly startMs = performance.now();
  private lastLineMs = -Infinity;
  private lineShown = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(message: string): void {
    const now = performance.now();
    if (now - this.startMs < QUIET_MS) return;

    if (this.stream.isTTY) {
      // A line wider than the terminal would wrap, and \r would not return to
      // its start. A terminal of unknown size reports 0 columns.
      const columns = this.stream.columns > 0 ? this.stream.columns : 80;
      this.stream.write(`\r\x1b[K${message.slice(0, columns - 1)}`);
      this.lineShown = true;
    } else if (now - this.lastLineMs >= QUIET_MS) {
      this.stream.write(`${message}\n`);
      this.lastLineMs = now;
    }
  }

  /** Clears the progress line on a terminal, so that the results start on a clean line. */
  finish(): void {
    if (this.lineShown) {
      this.stream.write("\r\x1b[K");
      this.lineShown = false;
    }
  }
}
