/** Exit codes of every command: 0 ok, 1 invalid input (or a failed check), 2 usage. */
export const EXIT = { ok: 0, invalidInput: 1, usage: 2 } as const;
