import { routesOf } from "../http/route.js";
import type { Services } from "../services.js";

/** Declares a gateway route; its handler gets the gateway's services. */
export const route = routesOf<Services>();
