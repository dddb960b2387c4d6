"""Writes a tiny llama model with random weights as GGUF v3 (F32 tensors, 0.3 MB) for a real
llama-server to load: one layer, 64-dim embeddings, a byte-level SentencePiece vocabulary (256 byte
tokens, 10 words, <unk> <s> </s>), an 8,192-token context. Its answers are noise; its timings, prompt
cache, slots and connection handling are llama.cpp's own. Standard library only.

    python3 examples/llamacpp/tiny_gguf.py /tmp/tiny.gguf
"""
import struct, random, sys
random.seed(1)
out = sys.argv[1]
n_embd, n_head, n_ff, n_layer, n_ctx = 64, 4, 128, 1, 8192
tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % i for i in range(256)] + ["▁" + w for w in "the a of and to in is it that was".split()]
types = [2, 3, 3] + [6] * 256 + [1] * 10
scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i) for i in range(10)]
n_vocab = len(tokens)
def s(x): b = x.encode(); return struct.pack("<Q", len(b)) + b
kv = []
def add(k, t, v): kv.append(s(k) + struct.pack("<I", t) + v)
U32, F32, STR, ARR, I32 = 4, 6, 8, 9, 5
add("general.architecture", STR, s("llama"))
add("general.name", STR, s("tiny-random"))
add("llama.context_length", U32, struct.pack("<I", n_ctx))
add("llama.embedding_length", U32, struct.pack("<I", n_embd))
add("llama.block_count", U32, struct.pack("<I", n_layer))
add("llama.feed_forward_length", U32, struct.pack("<I", n_ff))
add("llama.attention.head_count", U32, struct.pack("<I", n_head))
add("llama.attention.head_count_kv", U32, struct.pack("<I", n_head))
add("llama.attention.layer_norm_rms_epsilon", F32, struct.pack("<f", 1e-5))
add("llama.rope.dimension_count", U32, struct.pack("<I", n_embd // n_head))
add("tokenizer.ggml.model", STR, s("llama"))
add("tokenizer.ggml.tokens", ARR, struct.pack("<IQ", STR, n_vocab) + b"".join(s(t) for t in tokens))
add("tokenizer.ggml.scores", ARR, struct.pack("<IQ", F32, n_vocab) + b"".join(struct.pack("<f", x) for x in scores))
add("tokenizer.ggml.token_type", ARR, struct.pack("<IQ", I32, n_vocab) + b"".join(struct.pack("<i", x) for x in types))
add("tokenizer.ggml.unknown_token_id", U32, struct.pack("<I", 0))
add("tokenizer.ggml.bos_token_id", U32, struct.pack("<I", 1))
add("tokenizer.ggml.eos_token_id", U32, struct.pack("<I", 2))
tensors = [("token_embd.weight", [n_embd, n_vocab]), ("output_norm.weight", [n_embd]), ("output.weight", [n_embd, n_vocab])]
for i in range(n_layer):
    p = "blk.%d." % i
    tensors += [(p + "attn_norm.weight", [n_embd]), (p + "attn_q.weight", [n_embd, n_embd]), (p + "attn_k.weight", [n_embd, n_embd]),
                (p + "attn_v.weight", [n_embd, n_embd]), (p + "attn_output.weight", [n_embd, n_embd]), (p + "ffn_norm.weight", [n_embd]),
                (p + "ffn_gate.weight", [n_embd, n_ff]), (p + "ffn_up.weight", [n_embd, n_ff]), (p + "ffn_down.weight", [n_ff, n_embd])]
ALIGN = 32
infos, datas, off = [], [], 0
for name, dims in tensors:
    n = 1
    for d in dims: n *= d
    if name.endswith("norm.weight"):
        data = struct.pack("<%df" % n, *([1.0] * n))
    else:
        data = struct.pack("<%df" % n, *[random.gauss(0, 0.5) for _ in range(n)])
    infos.append(s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", 0, off))
    pad = (-len(data)) % ALIGN
    datas.append(data + b"\0" * pad)
    off += len(data) + pad
head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)) + b"".join(kv) + b"".join(infos)
head += b"\0" * ((-len(head)) % ALIGN)
open(out, "wb").write(head + b"".join(datas))
print(out, n_vocab, "tokens", len(head) + off, "bytes")
