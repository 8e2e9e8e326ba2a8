// Errors with protocol meaning: a command throws one, the connection turns it
// into the tagged reply (RFC 3501 §7.1; response codes RFC 5530).

export class NoError extends Error {
  constructor(
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export class BadError extends Error {
  constructor(
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}
