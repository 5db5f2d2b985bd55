import { z } from "zod";

import { notFound } from "../errors.js";
import { STREAMED } from "../http/route.js";
import { authenticate } from "../http/router.js";
import { NOTIFICATION_TYPES } from "../notify/notifications.js";
import type { Services } from "../services.js";
import { route } from "./define.js";

const webhookSchema = z.object({
  webhookId: z.string(),
  url: z.string(),
  types: z.array(z.enum(NOTIFICATION_TYPES)),
  createdAt: z.number(),
  active: z.boolean(),
});

export const notificationRoutes = [
  route({
    method: "get",
    path: "/notifications/stream",
    tag: "notifications",
    summary: "Your notifications as Server-Sent Events: leases made, provisioned, ended, refunds, credits",
    description:
      `Event names: ${NOTIFICATION_TYPES.join(", ")}. Each \`data\` is a JSON notification and each event ` +
      "has an `id`: a reconnect with `Last-Event-ID` first gets what it missed. The stream ends when its " +
      "API key or session is revoked.",
    access: "user",
    alsoProduces: ["text/event-stream"],
    response: z.object({ id: z.string(), type: z.enum(NOTIFICATION_TYPES), at: z.string(), data: z.unknown() }),
    async handler({ caller, services, req, res }) {
      await services.streams.subscribe(caller, res, {
        lastEventId: req.header("last-event-id"),
        stillValid: async () => (await authenticate(req, services.users))?.userId === caller.userId,
      });
      return STREAMED;
    },
  }),

  route({
    method: "post",
    path: "/webhooks",
    tag: "notifications",
    summary: "Have your notifications POSTed to a URL, signed with HMAC-SHA256 and retried with backoff",
    description:
      'Each delivery carries `Metalmarket-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed ' +
      "with the secret answered here once, and `Metalmarket-Delivery: <notification id>` (deliveries may repeat).",
    access: "user",
    status: 201,
    body: z
      .object({
        url: z
          .string()
          .url()
          .refine((url) => /^https?:/.test(url), "an http(s) URL"),
        types: z.array(z.enum(NOTIFICATION_TYPES)).default([]).describe("empty: every type"),
      })
      .strict(),
    response: webhookSchema.extend({ secret: z.string().describe("shown once") }),
    async handler({ body, caller, services }) {
      return services.webhooks.add(caller.userId, body.url, body.types);
    },
  }),

  route({
    method: "get",
    path: "/webhooks",
    tag: "notifications",
    summary: "Your webhooks",
    access: "user",
    response: z.object({ webhooks: z.array(webhookSchema) }),
    async handler({ caller, services }) {
      return { webhooks: await services.webhooks.list(caller.userId) };
    },
  }),

  route({
    method: "get",
    path: "/webhooks/:webhookId/deliveries",
    tag: "notifications",
    summary: "What was delivered to one of your webhooks, what is still being retried, and the dead letters",
    description:
      "`status=dead`: the deliveries whose every attempt failed (the dead letters); send one again with " +
      "`POST /webhooks/{webhookId}/deliveries/{notificationId}/retry`.",
    access: "user",
    params: z.object({ webhookId: z.string().uuid() }).strict(),
    query: z.object({ status: z.enum(["pending", "delivered", "dead"]).optional() }).strict(),
    response: z.object({
      deliveries: z.array(
        z.object({
          notificationId: z.string(),
          status: z.enum(["pending", "delivered", "dead"]),
          attempts: z.number(),
          lastError: z.string().nullable(),
        }),
      ),
    }),
    async handler({ params, query, caller, services }) {
      await requireOwnWebhook(services, caller.userId, params.webhookId);
      return { deliveries: await services.webhooks.deliveries(params.webhookId, query.status) };
    },
  }),

  route({
    method: "post",
    path: "/webhooks/:webhookId/deliveries/:notificationId/retry",
    tag: "notifications",
    summary: "Send a dead letter to your webhook again, with a fresh set of attempts",
    access: "user",
    params: z.object({ webhookId: z.string().uuid(), notificationId: z.string().regex(/^\d+:[a-z.]+$/) }).strict(),
    response: z.object({ queued: z.boolean() }),
    async handler({ params, caller, services }) {
      await requireOwnWebhook(services, caller.userId, params.webhookId);
      if (!(await services.webhooks.redeliver(params.webhookId, params.notificationId))) {
        throw notFound(`a dead letter ${params.notificationId} of webhook ${params.webhookId}`);
      }
      return { queued: true };
    },
  }),

  route({
    method: "delete",
    path: "/webhooks/:webhookId",
    tag: "notifications",
    summary: "Stop a webhook",
    access: "user",
    params: z.object({ webhookId: z.string().uuid() }).strict(),
    response: z.object({ removed: z.boolean() }),
    async handler({ params, caller, services }) {
      if (!(await services.webhooks.remove(caller.userId, params.webhookId))) {
        throw notFound(`webhook ${params.webhookId}`);
      }
      return { removed: true };
    },
  }),
];

async function requireOwnWebhook(services: Services, userId: string, webhookId: string): Promise<void> {
  const owned = (await services.webhooks.list(userId)).some((hook) => hook.webhookId === webhookId);
  if (!owned) throw notFound(`webhook ${webhookId}`);
}
