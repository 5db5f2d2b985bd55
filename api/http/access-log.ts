import type { NextFunction, Request, Response } from "express";
import type { Level, Logger as PinoLogger } from "pino";

/** How an answer is logged: info, warn for a refusal (4xx), error for a failure (5xx or a broken exchange). */
function levelOf(res: Response, error: Error | undefined): Level {
  if (error !== undefined || res.statusCode >= 500) return "error";
  return res.statusCode >= 400 ? "warn" : "info";
}

/**
 * The access log: one line per answer, `METHOD url status`, with the request (under its id), the
 * response and the time taken. The line is put together only when its level is logged: at the usual
 * `warn`, nearly every answer is a 2xx that is never written, and serialising each request anyway
 * (as a per-request child logger does) was a good part of a cheap request's cost.
 */
export function accessLog(logger: PinoLogger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    const done = (error?: Error) => {
      res.off("finish", done);
      res.off("close", done);
      res.off("error", done);
      const level = levelOf(res, error);
      if (!logger.isLevelEnabled(level)) return;
      const fields: Record<string, unknown> = {
        req: {
          id: res.getHeader("x-request-id"),
          method: req.method,
          url: req.originalUrl,
          query: req.query,
          params: req.params,
          headers: req.headers,
          remoteAddress: req.socket.remoteAddress,
          remotePort: req.socket.remotePort,
        },
        res: { statusCode: res.statusCode, headers: res.getHeaders() },
        responseTime: Math.round(performance.now() - started),
      };
      if (level === "error") fields.err = error ?? new Error(`failed with status code ${res.statusCode}`);
      logger[level](fields, `${req.method} ${req.originalUrl} ${res.statusCode}`);
    };
    res.on("finish", done);
    res.on("close", done);
    res.on("error", done);
    next();
  };
}
