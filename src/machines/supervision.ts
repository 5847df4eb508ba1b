/**
 * What the two supervisors (mobileNode, homeAgent) share about failing children. No RFC covers
 * supervision; the numbers follow Erlang/OTP's supervisor intensity/period.
 */

/** Child failures tolerated within RESTART_WINDOW_MS; the next one escalates. */
export const MAX_RESTARTS = 3;
/** The window in which failures are counted; it opens at the first one. */
export const RESTART_WINDOW_MS = 60_000;

/** A child's error as one line for reports and logs. */
export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
