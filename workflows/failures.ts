/** The innermost message of a failure: an ActivityFailure's or ChildWorkflowFailure's own only says that it failed. */
export function innermostMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
