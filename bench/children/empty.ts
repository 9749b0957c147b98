// The baseline of the stop-time row: a Node script that does nothing.
export {}
