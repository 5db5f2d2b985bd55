import type { Route } from "../http/route.js";
import type { Services } from "../services.js";
import { auditRoutes } from "./audit.js";
import { bidRoutes } from "./bids.js";
import { creditRoutes } from "./credits.js";
import { leaseRoutes } from "./leases.js";
import { marketRoutes } from "./market.js";
import { nodeRoutes } from "./nodes.js";
import { notificationRoutes } from "./notifications.js";
import { offerRoutes } from "./offers.js";
import { identityRoutes } from "./tenants.js";
import { timeslotRoutes } from "./timeslots.js";

/** Every endpoint of the gateway's API, in the order the OpenAPI document lists them. */
export const apiRoutes: readonly Route<Services>[] = [
  ...timeslotRoutes,
  ...identityRoutes,
  ...creditRoutes,
  ...nodeRoutes,
  ...offerRoutes,
  ...bidRoutes,
  ...leaseRoutes,
  ...marketRoutes,
  ...auditRoutes,
  ...notificationRoutes,
];
