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

/**
 * Why a request got no answer. `refused` and `unreachable` never reached the BMC; after `timeout`
 * and `reset` the BMC may have acted on it.
 */
export type NoAnswer = "timeout" | "refused" | "reset" | "unreachable" | "tls" | "other";

/** A request that got no answer: the BMC could not be reached, dropped it, or did not answer in time. */
export class RedfishNetworkError extends RedfishError {
  override readonly name = "RedfishNetworkError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly noAnswer: NoAnswer,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${method} ${path} got no answer (${noAnswer}): ${message}`, true, options);
  }

  /** Whether the request certainly never reached the BMC, so that sending it again repeats nothing. */
  get unsent(): boolean {
    return this.noAnswer === "refused" || this.noAnswer === "unreachable";
  }
}

export interface HttpErrorDetails {
  method: string;
  path: string;
  status: number;
  /** The body's `error.message`, as the BMC wrote it. */
  bmcMessage?: string | undefined;
  /** The body's `error["@Message.ExtendedInfo"]`. */
  messages?: ExtendedInfo[];
  /** What the client adds, e.g. that a session login was refused before. */
  hint?: string;
}

/** The BMC answered with an error status. 5xx are transient; 4xx are final. */
export class RedfishHttpError extends RedfishError {
  override readonly name = "RedfishHttpError";
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bmcMessage: string | undefined;
  readonly messages: ExtendedInfo[];
  /** The BMC's own words, each once: `error.message`, then each ExtendedInfo message (or its id). */
  readonly bmcMessages: string[];

  constructor(details: HttpErrorDetails) {
    const messages = details.messages ?? [];
    const texts = [details.bmcMessage, ...messages.map((m) => m.Message ?? m.MessageId)].filter(
      (text, i, all): text is string => text !== undefined && text !== "" && all.indexOf(text) === i,
    );
    const detail = [...texts, ...(details.hint === undefined ? [] : [details.hint])].join("; ");
    super(
      `${details.method} ${details.path} answered ${details.status}${detail === "" ? "" : `: ${detail}`}`,
      details.status >= 500,
    );
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.bmcMessage = details.bmcMessage;
    this.messages = messages;
    this.bmcMessages = texts;
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
