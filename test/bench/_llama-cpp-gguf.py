"""Converts a Hugging Face Llama folder to GGUF with llama.cpp's own convert_hf_to_gguf.py.

The benchmark models carry the demo tokenizer (4,096 ids) inside a 32,000-entry vocabulary, which the converter
cannot map; llama.cpp runs any ids, so the vocabulary is taken from the Llama SentencePiece vocabulary that
llama.cpp ships (models/ggml-vocab-llama-spm.gguf, 32,000 entries) instead.

    python _llama-cpp-gguf.py <llama.cpp source dir> <converter arguments...>
"""
import runpy
import sys
from pathlib import Path

source = Path(sys.argv[1]).resolve()
sys.path.insert(0, str(source))  # the converter finds models/ through sys.path[0]
sys.path.insert(1, str(source / "gguf-py"))

import conversion.llama  # noqa: E402  (needs the path above)


def builtin_vocab(self):
    self._set_vocab_builtin("llama-spm", self.hparams["vocab_size"])


conversion.llama.LlamaModel.set_vocab = builtin_vocab
sys.argv = [str(source / "convert_hf_to_gguf.py"), *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
