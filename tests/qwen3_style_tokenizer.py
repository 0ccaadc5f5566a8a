"""A small tokenizer built here, carrying Qwen3's real chat template, for training tests without model downloads.

Byte-level, so any text round-trips exactly: with no merges (one token per byte), or, given a corpus, with BPE
merges learned from it after a regex split, as Qwen3's are (short sequences, for tests that run a model). Like
Qwen3's tokenizer:
`<|im_start|>`, `<|im_end|>` and `<|endoftext|>` are special tokens (`<|im_end|>` ends a turn, `<|endoftext|>`
pads); `<think>`, `<tool_call>`, `<tool_response>` and their closing tags are added but not special, so they
survive decoding with `skip_special_tokens`.

The chat template is Qwen3's own (Qwen/Qwen3-0.6B to -32B, the hybrid-thinking release), as TRL ships it in
`trl/chat_templates/qwen3.jinja` for recognizing Qwen3 tokenizers; TRL's CI checks that file against the Hub. It
renders the tools into the system turn, tool calls as `<tool_call>` JSON, consecutive tool results as one user
turn of `<tool_response>` blocks, keeps an assistant turn's thinking only after the last user query (and always
for the last message), and pre-fills an empty think block when `enable_thinking=false`. Using the real text,
not a look-alike, is what lets the tests see what Qwen3 would see.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast
from trl.chat_template_utils import qwen3_chat_template

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MARKUP = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]

def build_tokenizer(folder: Path, corpus: Iterable[str] | None = None, vocab_size: int = 1024) -> PreTrainedTokenizerFast:
    """Save the tokenizer to `folder` (as a model folder would hold it) and load it back the standard way."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    if corpus is None:
        core = Tokenizer(models.BPE(vocab={token: i for i, token in enumerate(SPECIAL + alphabet)}, merges=[]))
        core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    else:
        core = Tokenizer(models.BPE())
        core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        core.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                                             initial_alphabet=alphabet, show_progress=False))
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        additional_special_tokens=SPECIAL[1:2], chat_template=qwen3_chat_template)
    tokenizer.add_tokens(MARKUP)
    tokenizer.save_pretrained(folder)
    return AutoTokenizer.from_pretrained(folder)
