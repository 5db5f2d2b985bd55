import { readFile, writeFile } from "node:fs/promises";

import { Wallet, encryptKeystoreJson, type HDNodeWallet, type Provider } from "ethers";

/**
 * Keys live encrypted at rest as Web3 Secret Storage (keystore) files: scrypt-derived key,
 * AES-128-CTR, the format geth, Besu tooling and ethers share.
 */
export interface KeySource {
  /** Path of an encrypted keystore file. */
  keystore?: string;
  /** Path of the file holding the keystore's password. */
  passwordFile?: string;
  /** A raw private key, e.g. from the environment for a development chain. Never written anywhere. */
  privateKey?: string;
}

/** Opens the account a key source names, connected to `provider`. */
export async function loadWallet(source: KeySource, provider?: Provider): Promise<Wallet | HDNodeWallet> {
  let wallet: Wallet | HDNodeWallet;
  if (source.keystore !== undefined) {
    if (source.passwordFile === undefined) throw new Error("an encrypted keystore needs its password file");
    const [json, password] = await Promise.all([readFile(source.keystore, "utf8"), readPassword(source.passwordFile)]);
    try {
      wallet = await Wallet.fromEncryptedJson(json, password);
    } catch (error) {
      throw new Error(`cannot open the keystore ${source.keystore}: wrong password or not a keystore`, {
        cause: error,
      });
    }
  } else if (source.privateKey !== undefined) {
    wallet = new Wallet(source.privateKey);
  } else {
    throw new Error("no key given: name a keystore and its password file");
  }
  return provider === undefined ? wallet : wallet.connect(provider);
}

/** Writes a new random account's encrypted keystore to `path` (mode 0600) and answers its address. */
export async function createKeystore(
  path: string,
  password: string,
  options: { scryptN?: number } = {},
): Promise<string> {
  const wallet = Wallet.createRandom();
  const account = { address: wallet.address, privateKey: wallet.privateKey };
  const json = await encryptKeystoreJson(
    account,
    password,
    options.scryptN === undefined ? {} : { scrypt: { N: options.scryptN } },
  );
  await writeFile(path, json, { mode: 0o600, flag: "wx" });
  return wallet.address;
}

/** A password file's content without its trailing newline. */
export async function readPassword(path: string): Promise<string> {
  return (await readFile(path, "utf8")).replace(/\r?\n$/, "");
}
