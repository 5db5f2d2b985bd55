import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import express, { type Express, type Request } from "express";
import { rateLimit } from "express-rate-limit";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

import type { Logger } from "../../sdk/log.js";
import type { User, Users } from "../identity/users.js";
import { accessLog } from "./access-log.js";
import type { IdempotencyKeys } from "./idempotency.js";
import { API_INFO, openApiDocument } from "./openapi.js";
import { problemOf, sendProblem } from "./problem.js";
import type { Access, Route } from "./route.js";
import { callerOf, problemHandler, requireAccess, routerOf } from "./router.js";
import { securityHeaders } from "./security-headers.js";

/** Where `npm run build` puts the portal. */
const PORTAL_DIR = join(import.meta.dirname, "../../web/dist");

export interface AppOptions<S> {
  routes: readonly Route<S>[];
  services: S;
  users: Users;
  idempotency: IdempotencyKeys;
  logger: Logger;
  limits: { bodyBytes: number; requestsPerMinute: number };
  /** Readiness: `undefined` when ready, else why not. */
  notReady(): Promise<string | undefined>;
  /** Gauges read at scrape time. */
  gauges: { name: string; help: string; read(): number }[];
}

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Metalmarket API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", withCredentials: true });`;

/**
 * The gateway's HTTP application: security headers, body and rate limits, metrics, the API
 * routes, the OpenAPI document and its interactive page, health and readiness.
 */
export function createApp<S>(options: AppOptions<S>): Express {
  const app = express();
  app.disable("x-powered-by");
  // Answers are `no-store`: no cache keeps an ETag to send back, and hashing every body costs.
  app.set("etag", false);
  app.set("trust proxy", "loopback");

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to answer HTTP requests, by method and route",
    labelNames: ["method", "route"] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  for (const gauge of options.gauges) {
    new Gauge({
      name: gauge.name,
      help: gauge.help,
      registers: [registry],
      collect() {
        this.set(gauge.read());
      },
    });
  }

  app.use(securityHeaders());
  // Every answer carries its request's id, the one an unexpected failure is logged under; answers
  // are personal (balances, keys shown once) and never stored by a cache unless a route says so.
  // Each is counted and timed by route.
  app.use((req, res, next) => {
    const given = req.headers["x-request-id"];
    res.setHeader("X-Request-Id", typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID());
    res.setHeader("Cache-Control", "no-store");
    const started = performance.now();
    // "close" comes for every response, also for streams the client hung up on.
    res.once("close", () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? "unmatched";
      latency.observe({ method: req.method, route }, (performance.now() - started) / 1000);
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });
  // The access log: one line per answer, under the request's id (credentials masked by the logger).
  if (options.logger.pino !== undefined) app.use(accessLog(options.logger.pino));
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: options.limits.requestsPerMinute,
      standardHeaders: "draft-7",
      legacyHeaders: false,
      keyGenerator: async (req: Request) => clientKey(req, await callerOf(req, options.users).catch(() => undefined)),
      handler: (_req, res) =>
        sendProblem(res, {
          type: "https://metalmarket.dev/problems/rate-limited",
          title: "Too many requests",
          status: 429,
          detail: `at most ${options.limits.requestsPerMinute} requests a minute; see the RateLimit headers`,
        }),
    }),
  );
  app.use(express.json({ limit: options.limits.bodyBytes, type: ["application/json", "application/*+json"] }));

  // The portal (web/, built by `npm run build`) is the front door; without a build, the API's page is.
  if (existsSync(join(PORTAL_DIR, "index.html"))) {
    app.use("/assets", express.static(join(PORTAL_DIR, "assets"), { index: false, immutable: true, maxAge: "1y" }));
    app.get("/", (_req, res) => {
      res.set("Cache-Control", "no-cache").sendFile(join(PORTAL_DIR, "index.html"));
    });
  } else {
    app.get("/", (_req, res) => {
      res.redirect(302, "/docs");
    });
  }
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", (_req, res, next) => {
    options
      .notReady()
      .then((reason) => {
        if (reason === undefined) res.json({ status: "ready" });
        else res.status(503).json({ status: "not ready", reason });
      })
      .catch(next);
  });
  // What the gateway is doing is for its operators: a Prometheus scraper sends an auditor's API key.
  app.get("/metrics", (req, res, next) => {
    requireAccess(req, options.users, METRICS_ACCESS, "GET /metrics")
      .then(() => registry.metrics())
      .then((text) => res.type(registry.contentType).send(text))
      .catch((error: unknown) => sendProblem(res, problemOf(error)))
      .catch(next);
  });
  const document = openApiDocument(options.routes as readonly Route[], API_INFO);
  app.get("/openapi.json", (_req, res) => {
    res.json(document);
  });
  const swaggerDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  app.use("/docs/assets", express.static(swaggerDir, { index: false, maxAge: "1d" }));
  app.get("/docs/init.js", (_req, res) => {
    res.type("text/javascript").send(DOCS_INIT);
  });
  app.get("/docs", (_req, res) => {
    res.type("html").send(DOCS_PAGE);
  });

  app.use(
    routerOf(options.routes, options.services, {
      users: options.users,
      idempotency: options.idempotency,
      logger: options.logger,
    }),
  );
  app.use((req, res) => {
    sendProblem(res, {
      type: "https://metalmarket.dev/problems/not-found",
      title: "Not found",
      status: 404,
      detail: `no endpoint ${req.method} ${req.path}; see /openapi.json`,
    });
  });
  app.use(problemHandler(options.logger, options.limits.bodyBytes));
  return app;
}

/** A client's own `X-Request-Id` is kept when it is a plain token; anything else gets a new one. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const METRICS_ACCESS: Access = ["admin", "auditor"];

/**
 * Rate limits count per user when the request's credential is valid, per address otherwise: a
 * made-up credential on every request does not buy a fresh allowance.
 */
function clientKey(req: Request, caller: User | undefined): string {
  return caller === undefined ? `ip:${req.ip ?? "unknown"}` : `u:${caller.userId}`;
}
