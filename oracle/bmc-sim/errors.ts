import { z } from "zod";

import { loadMockup } from "./mockup.js";

/**
 * The Base message registry the mockup publishes (`/redfish/v1/Registries`). Every message the
 * simulator sends is taken from it, so that a client looking a MessageId up finds the same text.
 */
const REGISTRY = "Base.1.5.0";

/** One Redfish message, as in `@Message.ExtendedInfo`. */
export interface RedfishMessage {
  MessageId: string;
  Message: string;
  MessageArgs: string[];
  RelatedProperties?: string[];
  Severity: "OK" | "Warning" | "Critical";
  Resolution: string;
}

/** The messages the simulator sends; each must be one the registry defines. */
const KEYS = [
  "GeneralError",
  "PropertyValueNotInList",
  "PropertyUnknown",
  "PropertyNotWritable",
  "PropertyValueTypeError",
  "PropertyValueFormatError",
  "ActionNotSupported",
  "ActionParameterMissing",
  "ActionParameterNotSupported",
  "ActionParameterValueFormatError",
  "CreateFailedMissingReqProperties",
  "ResourceNotFound",
  "ResourceInUse",
  "NoValidSession",
  "InsufficientPrivilege",
  "ServiceTemporarilyUnavailable",
  "MalformedJSON",
  "QueryNotSupported",
  "QueryParameterValueFormatError",
  "PropertyValueModified",
] as const;

export type MessageKey = (typeof KEYS)[number];

const registrySchema = z.object({
  Messages: z.record(
    z.object({
      Message: z.string(),
      Severity: z.enum(["OK", "Warning", "Critical"]),
      NumberOfArgs: z.number().int().default(0),
      Resolution: z.string(),
    }),
  ),
});
type Definition = z.infer<typeof registrySchema>["Messages"][string];

let definitions: ReadonlyMap<MessageKey, Definition> | undefined;

function definitionOf(key: MessageKey): Definition {
  if (definitions === undefined) {
    const text = loadMockup().get(`/redfish/v1/Registries/${REGISTRY}.json`)?.text ?? "{}";
    const { Messages } = registrySchema.parse(JSON.parse(text));
    definitions = new Map(
      KEYS.map((known) => {
        const definition = Messages[known];
        if (definition === undefined) throw new Error(`the ${REGISTRY} registry defines no message ${known}`);
        return [known, definition];
      }),
    );
  }
  // Every key is in the map once it is built.
  return definitions.get(key) as Definition;
}

/** A message of the Base registry, with its arguments filled in. */
export function message(key: MessageKey, args: string[] = [], relatedProperties?: string[]): RedfishMessage {
  const { Message, Severity, NumberOfArgs, Resolution } = definitionOf(key);
  if (args.length !== NumberOfArgs) throw new Error(`${key} takes ${NumberOfArgs} arguments, not ${args.length}`);
  return {
    MessageId: `${REGISTRY}.${key}`,
    Message: Message.replace(/%(\d+)/g, (_, n: string) => args[Number(n) - 1] ?? ""),
    MessageArgs: args,
    ...(relatedProperties === undefined ? {} : { RelatedProperties: relatedProperties }),
    Severity,
    Resolution,
  };
}

/** The body of a Redfish error response; `summary` says what went wrong when the messages cannot. */
export function errorBody(messages: RedfishMessage[], summary?: string): object {
  return {
    error: {
      code: `${REGISTRY}.GeneralError`,
      message: summary ?? "A general error has occurred. See ExtendedInfo for more information.",
      "@Message.ExtendedInfo": messages,
    },
  };
}
