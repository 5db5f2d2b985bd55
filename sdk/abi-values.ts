import type { ParamType, Result } from "ethers";

/**
 * The plain shape of a decoded ABI value: structs become objects keyed by field name, arrays stay
 * arrays. TypeChain types a struct as `[tuple] & {object}`; this keeps the object part.
 */
export type Decoded<T> = T extends readonly unknown[]
  ? keyof Omit<T, keyof unknown[]> extends never
    ? Decoded<T[number]>[]
    : { [K in keyof Omit<T, keyof unknown[]>]: Decoded<T[K]> }
  : T;

/** Turns an ethers-decoded value into plain objects and arrays, guided by its ABI type. */
export function plainValue(type: ParamType, value: unknown): unknown {
  if (type.isTuple()) {
    const fields = value as Result;
    const object: Record<string, unknown> = {};
    type.components.forEach((component, index) => {
      object[component.name] = plainValue(component, fields[index]);
    });
    return object;
  }
  if (type.isArray()) {
    const items = value as Result;
    return Array.from(items, (item) => plainValue(type.arrayChildren, item));
  }
  return value;
}

/** Turns decoded arguments into one plain object keyed by parameter name. */
export function plainArgs(inputs: readonly ParamType[], values: Result): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  inputs.forEach((input, index) => {
    args[input.name] = plainValue(input, values[index]);
  });
  return args;
}
