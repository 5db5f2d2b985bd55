/** A message from a Redfish error body's `@Message.ExtendedInfo`. */
export interface ExtendedInfo {
  MessageId?: string;
  Message?: string;
  RelatedProperties?: string[];
}

/** Anything that went wrong talking to a BMC. `transient` says whether trying again may help. */
export class RedfishError extends Error {
  override readonly name: string = "RedfishError";
  constructor(
    message: string,
    readonly transient: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The BMC could not be reached, or did not answer in time. */
export class RedfishNetworkError extends RedfishError {
  override readonly name = "RedfishNetworkError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, true, options);
  }
}

/** The BMC answered with an error status. 5xx are transient; 4xx are final. */
export class RedfishHttpError extends RedfishError {
  override readonly name = "RedfishHttpError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly messages: ExtendedInfo[],
  ) {
    const detail = messages
      .map((m) => m.Message ?? m.MessageId)
      .filter(Boolean)
      .join("; ");
    super(`${method} ${path} answered ${status}${detail === "" ? "" : `: ${detail}`}`, status >= 500);
  }

  /** Whether a message of the answer has this id (registry version aside), e.g. `PropertyValueNotInList`. */
  has(messageKey: string): boolean {
    return this.messages.some((m) => m.MessageId?.endsWith(`.${messageKey}`) === true);
  }
}

/** The BMC does not offer what was asked (a reset type, boot target, virtual CD). Final. */
export class RedfishUnsupportedError extends RedfishError {
  override readonly name = "RedfishUnsupportedError";
  constructor(message: string) {
    super(message, false);
  }
}

/** A state the BMC was asked to reach (a power state, a task) did not come in time. */
export class RedfishTimeoutError extends RedfishError {
  override readonly name = "RedfishTimeoutError";
  constructor(message: string) {
    super(message, true);
  }
}

/** Whether `error` is worth another try. */
export function isTransient(error: unknown): boolean {
  return error instanceof RedfishError ? error.transient : false;
}
