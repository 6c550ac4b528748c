/**
 * Microsoft's side refusing a request: the HTTP status, the error code and the message. Each API
 * family (Product Ingestion, SaaS fulfillment, metering, the sandbox's control routes) writes it
 * in its own wire shape.
 */
export class SandboxRefusal extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'SandboxRefusal';
  }
}
