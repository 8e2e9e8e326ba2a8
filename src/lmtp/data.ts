// The DATA section of SMTP/LMTP (RFC 5321 §4.1.1.4, §4.5.2): lines end in
// CRLF; a line that is a single "." ends the message; a line starting with
// "." has that dot removed (the sender doubled it). Streamed: bytes go out as
// they come, in slices of the input, never gathered into one buffer.
//
// Strict on line ends, as the SMTP-smuggling fixes of 2023-24 made Postfix
// and others: only CRLF "." CRLF ends the message; a bare LF or CR is data,
// and a dot after one is not at the start of a line.

const CR = 13;
const LF = 10;
const DOT = 46;
const CR_BUF = Buffer.from([CR]);

export class DotDecoder {
  /** At the start of a line (the data begins at one, right after DATA's CRLF). */
  private lineStart = true;
  /** The last byte seen mid-line was a CR (a CRLF may straddle two chunks). */
  private lastCR = false;
  /** At a line start: a dot was seen (dropped); ".\r" when `dotCR` too. */
  private dot = false;
  private dotCR = false;
  private finished = false;

  get done(): boolean {
    return this.finished;
  }

  /**
   * Decodes `chunk`, calling `emit` with the message's bytes (CRLF line ends
   * kept). Returns how many bytes of `chunk` belonged to the data: all of
   * them, or up to and including the end marker's LF once it is found (the
   * rest are the next commands, pipelined).
   */
  push(chunk: Buffer, emit: (bytes: Buffer) => void): number {
    let i = 0;
    const n = chunk.length;
    while (i < n && !this.finished) {
      if (this.dot) {
        const c = chunk[i];
        if (!this.dotCR) {
          if (c === CR) {
            this.dotCR = true;
            i++;
            continue;
          }
          // A stuffed dot: it is gone; the line goes on.
          this.dot = false;
          this.lineStart = false;
          continue;
        }
        if (c === LF) {
          this.finished = true;
          return i + 1;
        }
        // ".\r" then something else: the dot was stuffing, the CR is data.
        this.dot = this.dotCR = false;
        this.lineStart = false;
        this.lastCR = true;
        emit(CR_BUF);
        continue;
      }
      if (this.lineStart) {
        this.lineStart = false;
        if (chunk[i] === DOT) {
          this.dot = true;
          i++;
          continue;
        }
      }
      // Mid-line: up to the next LF that ends a line (one after a CR).
      let j = chunk.indexOf(LF, i);
      while (j >= 0 && !(j > i ? chunk[j - 1] === CR : this.lastCR)) j = chunk.indexOf(LF, j + 1);
      if (j < 0) {
        emit(chunk.subarray(i));
        this.lastCR = chunk[n - 1] === CR;
        return n;
      }
      emit(chunk.subarray(i, j + 1));
      i = j + 1;
      this.lineStart = true;
      this.lastCR = false;
    }
    return i;
  }
}
