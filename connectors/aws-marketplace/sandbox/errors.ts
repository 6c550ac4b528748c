/**
 * An error as one of the three marketplace services puts it on the wire. `type` is the name the
 * SDK maps back to its exception class; `status` the HTTP status its model gives the shape;
 * `fields` the members the exception carries besides its message (Catalog's
 * ValidationExceptionFieldList, Agreement's reason and fields).
 */
export class MarketplaceError extends Error {
  constructor(readonly type: string, readonly status: number, message: string, readonly fields: Record<string, unknown> = {}) {
    super(message);
  }
}

/** The three wire formats: Catalog is restJson1, Agreement awsJson1_0, Metering awsJson1_1. */
export type Service = 'catalog' | 'agreement' | 'metering';

/**
 * The body and headers of an error response. restJson1 names the error in X-Amzn-ErrorType and
 * writes `Message` (Catalog's exceptions have that member); awsJson writes `__type` and `message`.
 */
export function errorResponse(service: Service, error: MarketplaceError, requestId: string): { headers: Record<string, string>; body: Record<string, unknown> } {
  const headers: Record<string, string> = { 'x-amzn-errortype': error.type, 'x-amzn-requestid': requestId };
  if (service === 'catalog') {
    return { headers: { ...headers, 'content-type': 'application/json' }, body: { Message: error.message, ...error.fields } };
  }
  const contentType = service === 'agreement' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
  const extra = service === 'agreement' ? { requestId } : {};
  return { headers: { ...headers, 'content-type': contentType }, body: { __type: error.type, message: error.message, ...extra, ...error.fields } };
}

// ---- Catalog (restJson1; statuses from the SDK's model) ----------------------------------------

export interface ValidationField {
  Reason?: 'CannotParse' | 'FieldValidationFailed' | 'Other' | 'UnknownOperation';
  EntityType?: string;
  EntityId?: string;
  ChangeType?: string;
  Field?: string;
  Message: string;
}

export const catalogValidation = (message: string, fields: ValidationField[] = []) =>
  new MarketplaceError('ValidationException', 422, message, fields.length > 0 ? { ValidationExceptionFieldList: fields } : {});
export const catalogNotFound = (message: string) => new MarketplaceError('ResourceNotFoundException', 404, message);
export const resourceInUse = (message: string) => new MarketplaceError('ResourceInUseException', 423, message);
export const catalogAccessDenied = (message: string) => new MarketplaceError('AccessDeniedException', 403, message);

// ---- Agreement (awsJson1_0) ---------------------------------------------------------------------

export const agreementValidation = (reason: string, message: string, fields: { name: string; message: string }[] = []) =>
  new MarketplaceError('ValidationException', 400, message, { reason, ...(fields.length > 0 ? { fields } : {}) });
export const agreementNotFound = (id: string) =>
  new MarketplaceError('ResourceNotFoundException', 404, `Agreement ${id} was not found.`, { resourceId: id, resourceType: 'Agreement' });

// ---- Metering (awsJson1_1: its model gives no statuses, AWS answers 400 and 500) ----------------

export const meteringError = (type: string, message: string) => new MarketplaceError(type, 400, message);

/** A request that breaks the API model's constraints, in the words AWS's request validation uses. */
export const constraintViolation = (field: string, constraint: string) =>
  new MarketplaceError('ValidationException', 400, `1 validation error detected: Value at '${field}' failed to satisfy constraint: ${constraint}`);

// ---- Shared --------------------------------------------------------------------------------------

/** The throttling and server errors each service answers under load or fault. */
export function throttled(service: Service): MarketplaceError {
  return new MarketplaceError('ThrottlingException', service === 'metering' ? 400 : 429, 'Rate exceeded');
}

export function serverError(service: Service): MarketplaceError {
  const type = { catalog: 'InternalServiceException', agreement: 'InternalServerException', metering: 'InternalServiceErrorException' }[service];
  return new MarketplaceError(type, 500, 'An internal error occurred. Try again.');
}
