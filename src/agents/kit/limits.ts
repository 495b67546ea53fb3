import { UserInputError } from "../../errors";

/**
 * The longest argument text any agent reads. Every parser in the kit is linear, but a cap keeps
 * one message from costing more than a few milliseconds and gives the sender a clear answer
 * instead of silence. Agents may pass a smaller cap.
 */
export const MAX_ARGUMENT_LENGTH = 8_000;

/** Refuses text longer than `max` characters with a message that says the limit. */
export function capArguments(text: string, max = MAX_ARGUMENT_LENGTH, what = "That message"): string {
  if (text.length > max) {
    throw new UserInputError(
      `${what} is too long for me (${text.length.toLocaleString("en")} characters; I read at most ${max.toLocaleString("en")}).`,
    );
  }
  return text;
}

/**
 * `text` without trailing characters from `chars` (and whitespace, if `spaces`). A loop, because
 * the regex `/[…]+$/` retries from every position of a long run: quadratic.
 */
export function trimEndOf(text: string, chars: string, spaces = false): string {
  let end = text.length;
  while (end > 0 && (chars.includes(text[end - 1]) || (spaces && /\s/.test(text[end - 1])))) end--;
  return text.slice(0, end);
}
