/** The Base message registry the mockup ships, which the simulator's error messages cite. */
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

const templates = {
  GeneralError: ["A general error has occurred. See Resolution for information on how to resolve the error.", "None."],
  PropertyValueNotInList: [
    "The value %1 for the property %2 is not in the list of acceptable values.",
    "Choose a value from the enumeration list that the implementation can support and resubmit the request.",
  ],
  PropertyUnknown: [
    "The property %1 is not in the list of valid properties for the resource.",
    "Remove the unknown property from the request body and resubmit the request.",
  ],
  PropertyNotWritable: [
    "The property %1 is a read only property and cannot be assigned a value.",
    "Remove the property from the request body and resubmit the request.",
  ],
  PropertyValueTypeError: [
    "The value %1 for the property %2 is of a different type than the property can accept.",
    "Correct the value for the property in the request body and resubmit the request.",
  ],
  ActionParameterMissing: [
    "The action %1 requires the parameter %2 to be present in the request body.",
    "Supply the action with the required parameter in the request body.",
  ],
  ActionParameterNotSupported: [
    "The parameter %1 for the action %2 is not supported on the target resource.",
    "Remove the parameter supplied and resubmit the request.",
  ],
  ActionParameterValueNotInList: [
    "The value %1 for the parameter %2 in the action %3 is not in the list of acceptable values.",
    "Choose a value from the enumeration list that the implementation can support and resubmit the request.",
  ],
  ActionParameterValueFormatError: [
    "The value %1 for the parameter %2 in the action %3 is of a different format than the parameter can accept.",
    "Correct the value for the parameter in the request body and resubmit the request.",
  ],
  ResourceNotFound: [
    "The requested resource of type %1 named %2 was not found.",
    "Provide a valid resource identifier and resubmit the request.",
  ],
  ResourceInUse: [
    "The change to the requested resource failed because the resource is in use or in transition.",
    "Remove the condition and resubmit the request if the operation failed.",
  ],
  NoValidSession: [
    "There is no valid session established with the implementation.",
    "Establish a session before attempting any operations.",
  ],
  InsufficientPrivilege: [
    "There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.",
    "Either abandon the operation or change the associated access rights and resubmit the request.",
  ],
  PreconditionFailed: [
    "The ETag supplied did not match the ETag required to change this resource.",
    "Try the operation again using the appropriate ETag.",
  ],
  PreconditionRequired: [
    "A precondition header or annotation is required to change this resource.",
    "Try the operation again using an If-Match or If-None-Match header and appropriate ETag.",
  ],
  OperationNotAllowed: ["The HTTP method is not allowed on this resource.", "None."],
  ServiceTemporarilyUnavailable: [
    "The service is temporarily unavailable. Retry in %1 seconds.",
    "Wait for the indicated retry duration and retry the operation.",
  ],
  QueryNotSupported: [
    "Querying is not supported by the implementation.",
    "Remove the query parameters and resubmit the request if the operation failed.",
  ],
  QueryParameterValueFormatError: [
    "The value %1 for the parameter %2 is of a different format than the parameter can accept.",
    "Correct the value for the query parameter in the request and resubmit the request if the operation failed.",
  ],
  ActionNotSupported: [
    "The action %1 is not supported by the resource.",
    "The action supplied cannot be resubmitted to the implementation.  Perhaps the action was invalid, the wrong resource was the target or the implementation documentation may be of assistance.",
  ],
  PropertyValueFormatError: [
    "The value %1 for the property %2 is of a different format than the property can accept.",
    "Correct the value for the property in the request body and resubmit the request if the operation failed.",
  ],
  CreateFailedMissingReqProperties: [
    "The create operation failed because the required property %1 was missing from the request.",
    "Correct the body to include the required property with a valid value and resubmit the request if the operation failed.",
  ],
  MalformedJSON: [
    "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
    "Ensure that the request body is valid JSON and resubmit the request.",
  ],
} as const satisfies Record<string, readonly [string, string]>;

export type MessageKey = keyof typeof templates;

/** A message of the Base registry, with its arguments filled in. */
export function message(key: MessageKey, args: string[] = [], relatedProperties?: string[]): RedfishMessage {
  const [text, resolution] = templates[key];
  return {
    MessageId: `${REGISTRY}.${key}`,
    Message: text.replace(/%(\d)/g, (_, n: string) => args[Number(n) - 1] ?? ""),
    MessageArgs: args,
    ...(relatedProperties === undefined ? {} : { RelatedProperties: relatedProperties }),
    Severity: key === "GeneralError" ? "Critical" : "Warning",
    Resolution: resolution,
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
