import { EventEmitter } from 'cockatiel';

/**
 * Every request ecosync sends to an external system, announced where each connector sends it
 * (one countCall per connector, in its call layer: a retry is another call, a token request made
 * by an SDK on its own is not), so an admin sees API usage per system against the system's quota.
 */

export interface CallEvent {
  /** The external system, as the retry policy names it: 'salesforce', 'hubspot', 'aws-partner-central'… */
  system: string;
}

const called = new EventEmitter<CallEvent>();

/** Subscribes to every call to every external system in the process; dispose() to stop. */
export const onCall = called.addListener;

/** A connector is about to send one request to its system. */
export function countCall(system: string): void {
  called.emit({ system });
}
