"""A small tokenizer built here, with a Qwen3-style ChatML template, for training tests without model downloads.

Byte-level with no merges (one token per byte), so any text round-trips exactly. Like Qwen3's: `<|im_start|>`,
`<|im_end|>` and `<|endoftext|>` are special tokens (`<|im_end|>` ends a turn); `<think>`, `<tool_call>`,
`<tool_response>` and their closing tags are added but not special, so they survive decoding. The template
renders the tools into the system turn, assistant tool calls as `<tool_call>` JSON blocks, consecutive tool
results as one user turn of `<tool_response>` blocks, drops the thinking of earlier turns, and with
`enable_thinking=false` pre-fills an empty think block, as Qwen3's does.
"""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MARKUP = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]

CHAT_TEMPLATE = (
    "{%- set ns = namespace(system='') -%}"
    "{%- if messages and messages[0].role == 'system' -%}{%- set ns.system = messages[0].content -%}{%- endif -%}"
    "{%- if tools -%}"
    "{{ '<|im_start|>system\\n' }}{%- if ns.system -%}{{ ns.system + '\\n\\n' }}{%- endif -%}"
    "{{ '# Tools\\n\\nCall a function by writing a JSON object with its name and arguments inside "
    "<tool_call></tool_call> tags. The functions:\\n<tools>' }}"
    "{%- for tool in tools -%}{{ '\\n' + (tool | tojson) }}{%- endfor -%}"
    "{{ '\\n</tools><|im_end|>\\n' }}"
    "{%- elif ns.system -%}{{ '<|im_start|>system\\n' + ns.system + '<|im_end|>\\n' }}{%- endif -%}"
    "{%- for message in messages -%}"
    "{%- if message.role == 'user' -%}{{ '<|im_start|>user\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- elif message.role == 'assistant' -%}"
    "{{ '<|im_start|>assistant\\n' + (message.content or '') }}"
    "{%- for call in message.tool_calls or [] -%}"
    "{%- set fn = call.function -%}"
    "{%- if (message.content or '') or not loop.first -%}{{ '\\n' }}{%- endif -%}"
    "{{ '<tool_call>\\n{\"name\": \"' + fn.name + '\", \"arguments\": ' }}"
    "{%- if fn.arguments is string -%}{{ fn.arguments }}{%- else -%}{{ fn.arguments | tojson }}{%- endif -%}"
    "{{ '}\\n</tool_call>' }}"
    "{%- endfor -%}"
    "{{ '<|im_end|>\\n' }}"
    "{%- elif message.role == 'tool' -%}"
    "{%- if loop.first or messages[loop.index0 - 1].role != 'tool' -%}{{ '<|im_start|>user' }}{%- endif -%}"
    "{{ '\\n<tool_response>\\n' + message.content + '\\n</tool_response>' }}"
    "{%- if loop.last or messages[loop.index0 + 1].role != 'tool' -%}{{ '<|im_end|>\\n' }}{%- endif -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false -%}{{ '<think>\\n\\n</think>\\n\\n' }}{%- endif -%}"
    "{%- endif -%}"
)


def build_tokenizer(folder: Path) -> PreTrainedTokenizerFast:
    """Save the tokenizer to `folder` (as a model folder would hold it) and load it back the standard way."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {token: i for i, token in enumerate(SPECIAL + alphabet)}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        additional_special_tokens=SPECIAL[1:2], chat_template=CHAT_TEMPLATE)
    tokenizer.add_tokens(MARKUP)
    tokenizer.save_pretrained(folder)
    return AutoTokenizer.from_pretrained(folder)
