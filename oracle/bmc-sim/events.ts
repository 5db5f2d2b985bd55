import { randomUUID } from "node:crypto";

import { message, type RedfishMessage } from "./errors.js";
import { asObject, HttpProblem, type Reply } from "./http.js";
import { collection } from "./protocol.js";

export const EVENT_SERVICE = "/redfish/v1/EventService";
const SUBSCRIPTIONS = `${EVENT_SERVICE}/Subscriptions`;
const READ = ["GET", "HEAD"] as const;
/** What a subscription may say at creation (EventDestination); the rest is the service's. */
const WRITABLE = new Set(["Destination", "Protocol", "Context", "EventTypes", "RegistryPrefixes", "SubscriptionType"]);
const EVENT_TYPES = ["StatusChange", "ResourceUpdated", "ResourceAdded", "ResourceRemoved", "Alert"];

interface Subscription {
  id: string;
  destination: string;
  context: string | null;
  eventTypes: string[] | undefined;
  registryPrefixes: string[] | undefined;
}

/**
 * The EventService's subscriptions, kept in memory: a POST creates one, a DELETE removes it. A
 * change of the machine is POSTed to each subscriber as an Event, once, without retries.
 */
export class EventSubscriptions {
  readonly #subscriptions = new Map<string, Subscription>();
  #eventCount = 0;

  /** The methods a path under the EventService takes; `[]` for one that does not exist; `undefined` if not ours. */
  methodsOf(path: string): readonly string[] | undefined {
    if (path === EVENT_SERVICE) return READ;
    if (path === SUBSCRIPTIONS) return [...READ, "POST"];
    if (path.startsWith(`${SUBSCRIPTIONS}/`)) return this.#subscriptions.has(idOf(path)) ? [...READ, "DELETE"] : [];
    return undefined;
  }

  get size(): number {
    return this.#subscriptions.size;
  }

  /** The service document, from the mockup's, with the features the simulator really has. */
  service(mockup: Record<string, unknown>): Record<string, unknown> {
    const { SMTP: _noMail, ...rest } = mockup;
    // Events go out once: the mockup's three retries a minute apart would be a promise not kept.
    return { ...rest, EventTypesForSubscription: EVENT_TYPES, DeliveryRetryAttempts: 0 };
  }

  get(path: string): Reply | undefined {
    if (path === SUBSCRIPTIONS) {
      const members = [...this.#subscriptions.keys()].map((id) => `${SUBSCRIPTIONS}/${id}`);
      const type = "#EventDestinationCollection.EventDestinationCollection";
      return { status: 200, body: collection(type, SUBSCRIPTIONS, "Event Subscriptions Collection", members) };
    }
    const subscription = this.#subscriptions.get(idOf(path));
    return subscription === undefined ? undefined : { status: 200, body: document(subscription) };
  }

  /** POST to the collection: DSP0266 answers 201 with the new resource and its `Location`. */
  create(body: unknown): Reply {
    const fields = asObject(body, "");
    for (const key of Object.keys(fields)) {
      if (!WRITABLE.has(key)) throw new HttpProblem(400, [message("PropertyUnknown", [key], [`#/${key}`])]);
    }
    const { Destination, Protocol, Context, EventTypes, RegistryPrefixes, SubscriptionType } = fields;
    for (const [name, value] of [
      ["Destination", Destination],
      ["Protocol", Protocol],
    ] as const) {
      if (value === undefined) throw new HttpProblem(400, [message("CreateFailedMissingReqProperties", [name])]);
    }
    if (typeof Destination !== "string" || !/^https?:\/\/[^/]+/.test(Destination)) {
      throw new HttpProblem(400, [
        message("PropertyValueFormatError", [JSON.stringify(Destination), "Destination"], ["#/Destination"]),
      ]);
    }
    checkValue(Protocol, ["Redfish"], "Protocol");
    if (SubscriptionType !== undefined) checkValue(SubscriptionType, ["RedfishEvent"], "SubscriptionType");
    if (Context !== undefined && Context !== null && typeof Context !== "string") {
      throw new HttpProblem(400, [message("PropertyValueTypeError", [JSON.stringify(Context), "Context"])]);
    }
    const eventTypes = stringList(EventTypes, "EventTypes");
    for (const type of eventTypes ?? []) checkValue(type, EVENT_TYPES, "EventTypes");
    const subscription: Subscription = {
      id: randomUUID(),
      destination: Destination,
      context: typeof Context === "string" ? Context : null,
      eventTypes,
      registryPrefixes: stringList(RegistryPrefixes, "RegistryPrefixes"),
    };
    this.#subscriptions.set(subscription.id, subscription);
    const location = `${SUBSCRIPTIONS}/${subscription.id}`;
    return { status: 201, body: document(subscription), headers: { Location: location } };
  }

  /** Sends a `ResourceUpdated` event about `origin` to its subscribers. */
  publish(origin: string, info: RedfishMessage): void {
    const { MessageId, Message, MessageArgs, Severity } = info;
    this.#deliver("ResourceUpdated", {
      MessageId,
      Message,
      MessageArgs,
      Severity,
      OriginOfCondition: { "@odata.id": origin },
    });
  }

  /** `EventService.SubmitTestEvent`: the event the client describes, sent to its subscribers at once. */
  submitTestEvent(body: unknown): Reply {
    const action = "EventService.SubmitTestEvent";
    const { EventType = "Alert", MessageId, ...rest } = asObject(body ?? {}, "");
    if (MessageId === undefined) throw new HttpProblem(400, [message("ActionParameterMissing", [action, "MessageId"])]);
    if (typeof EventType !== "string" || ![...EVENT_TYPES, "Other"].includes(EventType)) {
      throw new HttpProblem(400, [
        message("ActionParameterValueFormatError", [JSON.stringify(EventType), "EventType", action]),
      ]);
    }
    this.#deliver(EventType, { MessageId, ...rest });
    return { status: 204 };
  }

  /**
   * POSTs one event record to every subscriber that takes its type. A subscriber that does not
   * answer loses it, as from a BMC that gave up retrying.
   */
  #deliver(eventType: string, record: Record<string, unknown>): void {
    for (const subscription of this.#subscriptions.values()) {
      if (subscription.eventTypes !== undefined && !subscription.eventTypes.includes(eventType)) continue;
      this.#eventCount += 1;
      const id = String(this.#eventCount);
      const event = {
        "@odata.type": "#Event.v1_7_0.Event",
        Id: id,
        Name: "Event",
        ...(subscription.context === null ? {} : { Context: subscription.context }),
        Events: [{ EventType: eventType, EventId: id, EventTimestamp: new Date().toISOString(), ...record }],
      };
      void fetch(subscription.destination, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(5_000),
      }).then(
        (answer) => answer.body?.cancel(),
        () => undefined,
      );
    }
  }

  remove(path: string): Reply {
    this.#subscriptions.delete(idOf(path));
    return { status: 204 };
  }
}

function document(subscription: Subscription): Record<string, unknown> {
  return {
    "@odata.type": "#EventDestination.v1_16_0.EventDestination",
    "@odata.id": `${SUBSCRIPTIONS}/${subscription.id}`,
    Id: subscription.id,
    Name: "Event Subscription",
    Destination: subscription.destination,
    Context: subscription.context,
    Protocol: "Redfish",
    SubscriptionType: "RedfishEvent",
    ...(subscription.eventTypes === undefined ? {} : { EventTypes: subscription.eventTypes }),
    ...(subscription.registryPrefixes === undefined ? {} : { RegistryPrefixes: subscription.registryPrefixes }),
  };
}

function idOf(path: string): string {
  return path.slice(SUBSCRIPTIONS.length + 1);
}

function checkValue(value: unknown, allowed: readonly string[], property: string): void {
  if (typeof value !== "string" || !allowed.includes(value)) {
    throw new HttpProblem(400, [
      message("PropertyValueNotInList", [JSON.stringify(value), property], [`#/${property}`]),
    ]);
  }
}

function stringList(value: unknown, property: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new HttpProblem(400, [
      message("PropertyValueTypeError", [JSON.stringify(value), property], [`#/${property}`]),
    ]);
  }
  return value as string[];
}
