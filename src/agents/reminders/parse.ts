import {
  UserInputError,
  checkDuration,
  cronProblem,
  humanizeMs,
  nextOccurrence,
  readTimeAndText,
  readWholeDuration,
  shortestGapMs,
  DURATION_EXAMPLES,
  type Duration,
  type Recurrence,
} from "../kit";

export interface ParseOptions {
  now: Date;
  /** The user's IANA timezone: every wall-clock time is read in it. */
  zone: string;
  /** Shortest allowed gap between firings of a recurring reminder. */
  minIntervalMs: number;
}

export interface ParsedReminder {
  dueAt: Date;
  /** The reminder's text ("" when only a time was given, e.g. in reply to a message). */
  message: string;
  recurrence?: Recurrence;
  /** How the time was read, for the confirmation ("“at 5” read as 17:00"). */
  notes: string[];
  /** `--until-ack`: repeat until the owner reacts ✅ or replies `done`. */
  untilAck: boolean;
}

export const EXAMPLES =
  "Try `in 10 minutes stretch`, `remind me tomorrow at 9 to call mom`, `every weekday at 8:30 mail` or `cron 0 9 * * 1-5 standup`.";

/** "remind me …", "please remind us …": the words people put first. */
const REMIND_ME = /^(?:please\s+)?remind\s+(?:me|us)\b[\s,:]*/i;
/** After `!remind` the word "remind" is gone: "!remind me to …", "!remind us in 5 minutes …". */
const ME_FIRST = /^(?:me|us)\s+(?=(?:to|about|that|in|at|on|every|each|next|this|tomorrow|tonight|today)\b)/i;
const UNTIL_ACK = /(?:^|\s)--until-ack(?=\s|$)/i;

/** Checks a recurrence against min_interval_seconds. */
export function checkInterval(rec: Recurrence, opts: ParseOptions): void {
  const gap = shortestGapMs(rec, opts.now);
  if (gap < opts.minIntervalMs) {
    throw new UserInputError(
      `That repeats too often (every ${humanizeMs(gap)}); reminders may repeat at most every ${humanizeMs(opts.minIntervalMs)}.`,
    );
  }
}

/** `cron <minute> <hour> <day-of-month> <month> <day-of-week> <message>` */
export function parseCron(spec: string, opts: ParseOptions): Omit<ParsedReminder, "untilAck"> {
  const tokens = spec.trim().split(/\s+/, 64);
  const fields = tokens.slice(0, 5);
  const sixth = tokens[5];
  if (fields.length < 5 || (sixth !== undefined && /^[\d*,/-]*[*/][\d*,/-]*$/.test(sixth))) {
    const count = fields.length < 5 ? fields.length : tokens.filter((t) => /^[\d*,/-]+$/.test(t)).length;
    throw new UserInputError(
      `A cron schedule has exactly 5 fields (minute hour day-of-month month day-of-week), e.g. \`cron 0 9 * * 1-5 standup\`; I found ${count}.`,
    );
  }
  const expr = fields.join(" ");
  const problem = cronProblem(expr);
  if (problem) throw new UserInputError(problem);
  const start = /^\s*(?:\S+\s+){5}/.exec(spec)?.[0].length ?? spec.length;
  const message = spec
    .slice(start)
    .trim()
    .replace(/^(?:to|about)\s+/i, "");
  const recurrence: Recurrence = { type: "cron", expr, zone: opts.zone };
  checkInterval(recurrence, opts);
  return { dueAt: nextOccurrence(recurrence, opts.now)!, message, recurrence, notes: [] };
}

/**
 * Reads a reminder: one-off ("in 10 minutes …", "remind me tomorrow at 9 to …", "… in 3
 * hours"), recurring ("every day at 7 …", "every month on the 1st at 9 …") or cron, with the
 * time before or after the text. Throws UserInputError, with an example, for anything it
 * cannot read exactly.
 */
export function parseReminder(spec: string, opts: ParseOptions): ParsedReminder {
  let text = spec.trim();
  const untilAck = UNTIL_ACK.test(text);
  if (untilAck) text = text.replace(UNTIL_ACK, " ").trim();
  text = text.replace(REMIND_ME, "").replace(ME_FIRST, "");
  if (text === "") throw new UserInputError(`Tell me when and what. ${EXAMPLES}`);
  const cron = /^cron\s+/i.exec(text);
  if (cron) return { ...parseCron(text.slice(cron[0].length), opts), untilAck };
  const found = readTimeAndText(text, opts);
  const when = found.value;
  if (when.kind === "recurring") {
    checkInterval(when.recurrence, opts);
    return {
      dueAt: when.first,
      message: found.text,
      recurrence: when.recurrence,
      notes: when.notes,
      untilAck,
    };
  }
  return { dueAt: when.at, message: found.text, notes: when.notes, untilAck };
}

/** The snooze length: "15m", "1 hour"; refuses nonsense and zero. */
export function parseSnooze(text: string): Duration {
  const parts = readWholeDuration(text);
  if (!parts) {
    throw new UserInputError(
      `I could not read “${text.slice(0, 40)}” as a length of time. Try ${DURATION_EXAMPLES}.`,
    );
  }
  checkDuration(parts);
  return parts;
}
