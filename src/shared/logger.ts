import winston from 'winston';

export type Logger = winston.Logger;

/**
 * JSON logs. Nothing personal is ever passed to the logger: phone numbers never leave the request
 * handler that normalises them, so there is nothing to redact here.
 */
export function createLogger(opts: { level?: string; stream?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? 'info';
  return winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    defaultMeta: { service: 'gallra' },
    transports: [opts.stream ? new winston.transports.Stream({ stream: opts.stream }) : new winston.transports.Console()],
  });
}
