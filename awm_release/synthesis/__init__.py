"""Synthesis: grow new environment bundles from seed domains with any OpenAI-compatible LLM (`awm gen`).

Modules: llm (client, retries, accounting), prompts (versioned), parsing (replies), validation (accept/reject
checks), envcheck and probe (environment checks in forked processes), attempts (self-correction), dedup
(embeddings), stages (one module per stage), pipeline (chaining, resume), runfolder (state), report,
replay (scripted replies from existing bundles), cli.
"""
