"""Converts a Hugging Face Llama folder to GGUF with llama.cpp's own convert_hf_to_gguf.py.

The benchmark models carry the demo tokenizer (4,096 ids) inside a larger vocabulary (32,000 entries; a real
shape's own, e.g. Llama 3.2's 128,256), which the converter cannot map; llama.cpp runs any ids, so the vocabulary
is the Llama SentencePiece vocabulary that llama.cpp ships (models/ggml-vocab-llama-spm.gguf, 32,000 entries),
padded with unused entries up to the model's vocab_size.

    python _llama-cpp-gguf.py <llama.cpp source dir> <converter arguments...>
"""
import runpy
import sys
from pathlib import Path

source = Path(sys.argv[1]).resolve()
sys.path.insert(0, str(source))  # the converter finds models/ through sys.path[0]
sys.path.insert(1, str(source / "gguf-py"))

import conversion.llama  # noqa: E402  (needs the path above)
import gguf  # noqa: E402


def builtin_vocab(self):
    size = self.hparams["vocab_size"]
    writer = self.gguf_writer
    add_list, add_scores, add_types = writer.add_token_list, writer.add_token_scores, writer.add_token_types
    # Each per-token array of the shipped vocabulary, padded to the model's.
    writer.add_token_list = lambda tokens: add_list(list(tokens) + [f"<unused{i}>".encode() for i in range(size - len(tokens))])
    writer.add_token_scores = lambda scores: add_scores(list(scores) + [0.0] * (size - len(scores)))
    writer.add_token_types = lambda types: add_types(list(types) + [gguf.TokenType.UNUSED] * (size - len(types)))
    self._set_vocab_builtin("llama-spm", size)


conversion.llama.LlamaModel.set_vocab = builtin_vocab
sys.argv = [str(source / "convert_hf_to_gguf.py"), *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
