import pino, { type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino blanks out wherever they appear. Credentials travel in these keys (connection
 * configs, HTTP headers, token responses); a test asserts none of them reaches the output.
 */
export const REDACT_PATHS = [
  'password', '*.password', '*.*.password',
  'secret', '*.secret', '*.*.secret', 'clientSecret', '*.clientSecret', '*.*.clientSecret',
  'token', '*.token', 'accessToken', '*.accessToken', '*.*.accessToken',
  'refreshToken', '*.refreshToken', '*.*.refreshToken',
  'access_token', '*.access_token', 'refresh_token', '*.refresh_token',
  'privateKey', '*.privateKey', '*.*.privateKey', 'apiKey', '*.apiKey', '*.*.apiKey',
  'credentials', '*.credentials', '*.*.credentials',
  'authorization', '*.authorization', '*.*.authorization',
  'Authorization', '*.Authorization', '*.*.Authorization',
  'headers.authorization', 'req.headers.authorization', 'req.headers.cookie',
  'headers["x-hubspot-signature-v3"]', 'req.headers["x-hubspot-signature-v3"]',
  'encryptionKey', '*.encryptionKey',
];

/** Matches bearer tokens and key=value secrets inside free text (error messages, URLs). */
const SECRET_IN_TEXT = /(Bearer\s+)[A-Za-z0-9._~+/=-]+|((?:access_token|refresh_token|client_secret|password|token|secret)=)[^&\s"']+/gi;

export function redactText(text: string): string {
  return text.replace(SECRET_IN_TEXT, (_m, bearer: string | undefined, kv: string | undefined) => `${bearer ?? kv}[Redacted]`);
}

export interface LogOptions {
  level?: string;
  /** Pretty, human output; defaults to true on a TTY. */
  pretty?: boolean;
  destination?: pino.DestinationStream;
  name?: string;
}

export function createLogger(options: LogOptions = {}): Logger {
  const pretty = options.pretty ?? (process.stdout.isTTY === true && !process.env.CI);
  const base: LoggerOptions = {
    name: options.name ?? 'ecosync',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    formatters: {
      log(object) {
        // Free-text fields may quote a token (a failed request's URL, an SDK error message).
        for (const key of ['msg', 'message', 'url', 'err']) {
          const value = object[key];
          if (typeof value === 'string') object[key] = redactText(value);
          else if (value instanceof Error) object[key] = { type: value.name, message: redactText(value.message), stack: value.stack ? redactText(value.stack) : undefined };
        }
        return object;
      },
    },
    hooks: {
      logMethod(args, method) {
        // The message string itself (`log.info('got %s', token)`) is redacted too.
        const mapped = args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as typeof args;
        method.apply(this, mapped);
      },
    },
  };
  if (options.destination) return pino(base, options.destination);
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino(base);
}

let shared: Logger | undefined;
/** The process-wide logger. */
export function log(): Logger {
  shared ??= createLogger();
  return shared;
}
export function setLogger(logger: Logger): void {
  shared = logger;
}
