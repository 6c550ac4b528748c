/**
 * NetSuite's REST error body: {type, title, status, "o:errorDetails": [{detail, "o:errorCode",
 * "o:errorPath"?, "o:errorHeader"?, "o:errorQueryParam"?, "o:errorUrl"?}]}, one detail per problem.
 */

export interface ErrorDetail {
  detail: string;
  'o:errorCode': string;
  /** JSON path into the request body (`item.items[0].item`). */
  'o:errorPath'?: string;
  'o:errorHeader'?: string;
  'o:errorQueryParam'?: string;
  'o:errorUrl'?: string;
}

export interface ErrorBody {
  type: string;
  title: string;
  status: number;
  'o:errorDetails': ErrorDetail[];
}

const TITLES: Record<number, [title: string, section: string]> = {
  400: ['Bad Request', 'sec10.4.1'],
  401: ['Unauthorized', 'sec10.4.2'],
  403: ['Forbidden', 'sec10.4.4'],
  404: ['Not Found', 'sec10.4.5'],
  405: ['Method Not Allowed', 'sec10.4.6'],
  406: ['Not Acceptable', 'sec10.4.7'],
  415: ['Unsupported Media Type', 'sec10.4.16'],
  429: ['Too Many Requests', ''],
  500: ['Internal Server Error', 'sec10.5.1'],
  503: ['Service Unavailable', 'sec10.5.4'],
};

export function errorBody(status: number, details: ErrorDetail[]): ErrorBody {
  const [title, section] = TITLES[status] ?? ['Error', ''];
  // 429 is not in RFC 2616; NetSuite points at RFC 6585 for it.
  const type = status === 429 ? 'https://tools.ietf.org/html/rfc6585#section-4' : `https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html${section ? `#${section}` : ''}`;
  return { type, title, status, 'o:errorDetails': details };
}

/** A refusal on its way to the client, in NetSuite's shape. */
export class NetSuiteError extends Error {
  readonly details: ErrorDetail[];

  constructor(readonly status: number, details: ErrorDetail | ErrorDetail[]) {
    const list = Array.isArray(details) ? details : [details];
    super(list.map((d) => d.detail).join('; '));
    this.details = list;
    this.name = 'NetSuiteError';
  }

  get body(): ErrorBody {
    return errorBody(this.status, this.details);
  }
}

export const detail = (code: string, text: string, extra: Omit<ErrorDetail, 'detail' | 'o:errorCode'> = {}): ErrorDetail => ({ detail: text, 'o:errorCode': code, ...extra });

/** The answer to a bad, expired or missing access token (the reason goes to the login audit trail). */
export function invalidLogin(): NetSuiteError {
  return new NetSuiteError(401, detail('INVALID_LOGIN',
    'Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.'));
}

export function nonexistentId(type: string, id: string): NetSuiteError {
  return new NetSuiteError(404, detail('NONEXISTENT_ID', `The record instance does not exist. Provide a valid record instance ID. (${type} ${id})`, { 'o:errorUrl': `${type}/${id}` }));
}

/** A problem in the request body at `path`. */
export const invalidContent = (path: string, text: string): ErrorDetail =>
  detail('INVALID_CONTENT', `Error while accessing a resource. ${text}`, { 'o:errorPath': path });

/** A mandatory field left empty; NetSuite names the field by its label. */
export const missingValue = (path: string, label: string): ErrorDetail =>
  detail('USER_ERROR', `Error while accessing a resource. Please enter value(s) for: ${label}.`, { 'o:errorPath': path });

/** SuiteQL that cannot run: NetSuite's wording, with the reason after it. */
export function invalidSearch(reason: string): NetSuiteError {
  return new NetSuiteError(400, detail('INVALID_PARAMETER', `Invalid search query. Detailed unprocessed description follows. Search error occurred: ${reason}`));
}

export function invalidQueryParam(name: string, text: string): NetSuiteError {
  return new NetSuiteError(400, detail('INVALID_PARAMETER', `Invalid value for the parameter '${name}'. ${text}`, { 'o:errorQueryParam': name }));
}
