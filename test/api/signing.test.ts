import { SigningKey, Wallet, keccak256, toUtf8Bytes } from "ethers";
import { describe, expect, it } from "vitest";

import { SigningThread } from "../../api/identity/signing.js";

describe("the signing thread", () => {
  it("signs digests as the key itself does, many at once, and in-line once it is closed", async () => {
    const thread = new SigningThread();
    const wallets = [Wallet.createRandom(), Wallet.createRandom()];
    const signers = wallets.map((wallet) => thread.signerOf(wallet.privateKey));
    const digests = Array.from({ length: 20 }, (_, i) => keccak256(toUtf8Bytes(`transaction ${i}`)));
    const signed = await Promise.all(digests.map((digest, i) => signers[i % 2]?.(digest)));
    signed.forEach((signature, i) => {
      const wallet = wallets[i % 2];
      expect(signature?.serialized).toBe(wallet?.signingKey.sign(digests[i] ?? "").serialized);
      expect(SigningKey.recoverPublicKey(digests[i] ?? "", signature ?? "")).toBe(wallet?.signingKey.publicKey);
    });
    await thread.close();
    const after = await signers[0]?.(digests[0] ?? "");
    expect(after?.serialized).toBe(signed[0]?.serialized);
  });
});
