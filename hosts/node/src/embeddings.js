// Embedding functions for the engine's `rem:engine/embeddings` import.
//
// The engine asks for `embed(model, texts)`; a Node host supplies any synchronous
// function `(model, texts) => vectors`. (OpenAI-compatible HTTP embeddings need an
// async call, which the synchronous import cannot make: embed beforehand and search by
// vector, or use the Rust or Python host.)

/** The model of the conformance suite (tests/conformance/suite.json): 26 letter counts. */
export const LETTERS_MODEL = "custom:letters";

/**
 * `custom:letters`: for each text, the count of each ASCII letter a-z (case folded), as a
 * 26-dimension vector. Deterministic and identical in every host, so search results can
 * be compared across hosts.
 * @param {string[]} texts
 * @returns {number[][]}
 */
export function letters(texts) {
  return texts.map((t) => {
    const v = new Array(26).fill(0);
    for (const c of t.toLowerCase()) {
      const i = c.charCodeAt(0) - 97;
      if (i >= 0 && i < 26) v[i] += 1;
    }
    return v;
  });
}

/** An error the engine receives as the WIT `embedding` case. */
export class EmbeddingError extends Error {
  constructor(message) {
    super(message);
    this.payload = { tag: "embedding", val: message };
  }
}

/**
 * The import object for one database: `defaultModel` and `embed` dispatching to `models`
 * (a map of model name to `(texts) => number[][]`).
 */
export function embeddingsImport(models, defaultModel) {
  return {
    defaultModel: () => defaultModel,
    // No second model (P8_ALT_EMBEDDING) in the Node host: tables keep one vector per row.
    altModel: () => undefined,
    embed(model, texts) {
      const f = models[model];
      if (!f) {
        throw new EmbeddingError(
          `unknown embedding model '${model}' in the Node host: known are ${Object.keys(models).join(", ") || "none"}`,
        );
      }
      let out;
      try {
        out = f(texts);
      } catch (e) {
        throw new EmbeddingError(`the embedding function for '${model}' threw: ${e?.message ?? e}`);
      }
      if (!Array.isArray(out) || out.length !== texts.length) {
        throw new EmbeddingError(`the embedding function for '${model}' returned ${out?.length} vectors for ${texts.length} texts`);
      }
      return out.map((v) => Float32Array.from(v));
    },
  };
}
